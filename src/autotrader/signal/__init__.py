"""The BTC signal engine: incremental feature engine and models (seed, ...)."""
