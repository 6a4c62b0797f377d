"""Test harnesses and shared test helpers.

A stand-in service manager (notify.py), a dummy daemon (dummy_service.py), local servers and
log helpers for the feed tests (feeds.py), and the seed engine run bar by bar (seed.py).
"""
