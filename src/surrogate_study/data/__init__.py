"""Datasets as spike trains: the container (:mod:`.spike_data`), Randman (:mod:`.randman`), the real datasets'
download (:mod:`.fetch`), formats (:mod:`.idx`, :mod:`.shd`), latency coding (:mod:`.latency`) and
preprocessing (:mod:`.real_datasets`), and the splits a run trains on (:mod:`.splits`)."""
