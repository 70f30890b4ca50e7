"""Figure helpers: the shared style and saving (:mod:`.style`) and the traces, rasters and manifolds that
figures 1 and 2 draw (:mod:`.data`)."""
