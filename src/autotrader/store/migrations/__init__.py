"""Alembic migrations of the autotrader database (applied by ``autotrader.store.migrate``)."""
