"""Executor additions: paper venue state, position overrides, redeemable (issue 4).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.
"""

from __future__ import annotations
