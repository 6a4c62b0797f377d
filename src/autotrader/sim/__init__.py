"""autotrader.sim."""
