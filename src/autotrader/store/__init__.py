"""autotrader.store: the shared database.

``db`` (engines, URL handling, error translation), ``types`` (Money, UTCDateTime), ``models``
(the tables), ``migrate`` (Alembic, applied at daemon start), ``repos`` (the only code that
reads and writes rows).
"""
