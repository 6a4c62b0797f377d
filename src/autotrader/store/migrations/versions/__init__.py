"""Migration scripts: ``NNNN_<what>.py`` with ``revision = "NNNN"``, one per schema change."""
