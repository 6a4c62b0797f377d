"""autotrader.venue."""
