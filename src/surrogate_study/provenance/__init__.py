"""Provenance stamps of artifacts: config, code version, inputs and environment (:mod:`.stamps`)."""
