"""The executor: intents in, orders, fills and a ledger out (DESIGN.md §1, §4)."""
