"""The scheduler daemon: strategies on their schedules, turned into order intents (issue 5)."""
