"""Test harnesses: a stand-in service manager (notify.py) and a dummy daemon (dummy_service.py)."""
