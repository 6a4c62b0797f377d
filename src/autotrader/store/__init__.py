"""autotrader.store."""
