"""The static HTML status page (issue 6)."""
