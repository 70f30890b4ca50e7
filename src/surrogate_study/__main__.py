"""``python -m surrogate_study``: see :mod:`surrogate_study.cli`."""

import sys

from .cli import main

sys.exit(main())
