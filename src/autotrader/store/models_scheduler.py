"""Scheduler tables: strategy schedule state and the runs log (issue 5).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.
"""

from __future__ import annotations
