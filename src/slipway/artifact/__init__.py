"""The model folder: what the train stage writes and release and serving read (files, digests, loading)."""
