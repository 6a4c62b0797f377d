"""`python -m autotrader` is the same as the `autotrader` command."""

from autotrader.cli import main

raise SystemExit(main())
