"""Strategies: the built-in ``btc_updown_15m`` and the pipeline node types (DESIGN.md §2)."""
