"""The pipeline node types (DESIGN.md §6, issue 5 §4), one function per ``node_type``.

``wait`` is not here: it ends the run for its items, which ``pipeline`` stores and resumes.
"""

from __future__ import annotations

from autotrader.strategies.nodes.base import NodeFn
from autotrader.strategies.nodes.logic import keep_where
from autotrader.strategies.nodes.markets import monitor_watchlist, stream_markets
from autotrader.strategies.nodes.metrics import check_momentum, whale_activity
from autotrader.strategies.nodes.trading import execute_trade, exit_position
from autotrader.strategies.nodes.watch import add_to_watchlist, remove_from_watchlist

NODE_FUNCTIONS: dict[str, NodeFn] = {
    "stream_markets": stream_markets,
    "filter": keep_where,
    "condition": keep_where,
    "add_to_watchlist": add_to_watchlist,
    "remove_from_watchlist": remove_from_watchlist,
    "monitor_watchlist": monitor_watchlist,
    "check_momentum": check_momentum,
    "whale_activity": whale_activity,
    "execute_trade": execute_trade,
    "exit_position": exit_position,
}

__all__ = ["NODE_FUNCTIONS"]
