"""Exponential backoff with jitter, for reconnects and failed polls."""

from __future__ import annotations

import random


class Backoff:
    """Delay before the next attempt: ``base · 2^(failures-1)``, capped, times a jitter factor.

    The jitter factor is uniform in [0.5, 1], so many clients restarting together spread out,
    and a delay is never below half the base: a retry loop cannot spin hot.
    """

    def __init__(self, base_secs: float, cap_secs: float, rng: random.Random | None = None) -> None:
        if base_secs <= 0 or cap_secs <= 0:
            raise ValueError(f"backoff needs base and cap > 0 (got {base_secs}, {cap_secs})")
        self.cap_secs = float(cap_secs)
        self.base_secs = min(float(base_secs), self.cap_secs)
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before retrying."""
        self.failures += 1
        # The exponent is bounded so 2**n cannot overflow after days of failures.
        raw = self.base_secs * 2.0 ** min(self.failures - 1, 32)
        return min(self.cap_secs, raw) * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """A success: the next failure starts from the base delay again."""
        self.failures = 0
