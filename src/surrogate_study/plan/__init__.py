"""Planning, light enough for the Snakefile (imports no torch, numba, pandas or h5py): run configs and their
validation (:mod:`.config`, :mod:`.overrides`, :mod:`.errors`), studies → cells → jobs (:mod:`.study`), the
dataset catalog (:mod:`.dataset_catalog`, :mod:`.real_tasks`), surrogate shape names and plug-ins
(:mod:`.shapes`) and the cost estimate (:mod:`.cost`)."""
