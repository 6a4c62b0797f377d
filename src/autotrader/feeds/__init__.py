"""BTC price feeds behind one PriceFeed protocol: coinbase, binance, polymarket_rtds, replay."""
