"""autotrader.strategies."""
