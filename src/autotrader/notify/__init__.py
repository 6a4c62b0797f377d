"""autotrader.notify."""
