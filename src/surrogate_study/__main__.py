"""``python -m surrogate_study``: see :mod:`surrogate_study.cli`."""

import sys

from surrogate_study.cli import main

sys.exit(main())
