"""Atomic writes of every output (text, JSON, CSV, tensors): a reader never sees a half-written file (:mod:`.atomic`)."""
