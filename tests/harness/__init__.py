"""Test harnesses and shared test helpers.

A stand-in service manager (notify.py), a dummy daemon (dummy_service.py), local servers and
log helpers for the feed tests (feeds.py), the seed engine run bar by bar (seed.py), the
simulator as a subprocess (sim.py), and migrated engines and gated processes for the store
tests (store.py).
"""
