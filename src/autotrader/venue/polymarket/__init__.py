"""The Polymarket edge: wire models (schemas), the wire→domain translator (parsing), venue
refusal reasons (reasons), Gamma discovery (gamma), the Data API (data_api) and the
15-minute BTC window helper (windows)."""
