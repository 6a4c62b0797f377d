"""Pipeline tables: watchlist and deferred items (issue 5).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.
"""

from __future__ import annotations
