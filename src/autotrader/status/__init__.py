"""autotrader.status."""
