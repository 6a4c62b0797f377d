"""autotrader.daemons."""
