"""Copy a text artifact (the HTML report) to its target with a provenance comment appended, atomically.

Usage: ``stamp_provenance.py SOURCE TARGET INPUT...``: the record names the inputs, the workflow's config
file(s) (exported by the Snakefile) and the git state (surrogate_study.provenance.stamps); SOURCE is removed.
"""

import shutil
import sys
from pathlib import Path

from surrogate_study.provenance import stamps as provenance

source, target, *inputs = sys.argv[1:]
staged = Path(target).with_name(f".{Path(target).name}.stamping{Path(target).suffix}")
shutil.copyfile(source, staged)
try:
    provenance.stamp_text(staged, provenance.collect(provenance.workflow_config_files(), inputs))
    staged.replace(target)
finally:
    staged.unlink(missing_ok=True)
Path(source).unlink()
