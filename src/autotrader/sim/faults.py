"""Venue failures the simulator injects on demand, so the executor can be tested against them.

A fault SPEC is a comma-separated list of tokens (spaces ignored)::

    KIND:PROB           KIND is 425, 429, 500, slow, drop or lost; PROB in [0, 1] is the chance
                        per request. One draw per request picks at most one kind, so the
                        probabilities must add up to at most 1.
    scope=orders|all    which requests draw: the order endpoints (default) or every endpoint
    slow=SECS           how long a slow response is held, in real seconds (default 2)
    retry-after=SECS    the Retry-After of a 429, in simulated seconds (default 1)
    restart@T[:DOWN[:POST]]
                        a matching-engine restart: the order endpoints answer 425 for DOWN
                        simulated seconds (default 90) from T, then only post-only orders are
                        accepted for POST seconds (default 120). T is epoch seconds, or +N / -N
                        seconds from when the spec is applied. May be given several times.
    none                no faults (as is an empty SPEC)

``drop`` closes the connection without answering and does nothing; ``lost`` does the work (the
order IS placed) and then closes the connection: the client never learns that its order went
through, which is how orders get doubled in the wild. The draws come from a seeded RNG, so a
run is repeatable for the same seed and request sequence.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["425", "429", "500", "slow", "drop", "lost"]
KINDS: tuple[FaultKind, ...] = ("425", "429", "500", "slow", "drop", "lost")
Scope = Literal["orders", "all"]
EnginePhase = Literal["down", "post_only"]

DEFAULT_SLOW_SECS = 2.0
DEFAULT_RETRY_AFTER_SECS = 1.0
DEFAULT_DOWN_SECS = 90.0
DEFAULT_POST_ONLY_SECS = 120.0

_EXPECTED = (
    "expected KIND:PROB (KIND one of 425, 429, 500, slow, drop, lost), scope=orders|all, "
    "slow=SECS, retry-after=SECS, restart@T[:DOWN[:POST]] or none"
)


class FaultSpecError(ValueError):
    """A fault SPEC that cannot be parsed; the message names the bad token."""


@dataclass(frozen=True)
class RestartWindow:
    """One matching-engine restart: ``down_secs`` of 425, then ``post_only_secs`` post-only."""

    start: float
    down_secs: float = DEFAULT_DOWN_SECS
    post_only_secs: float = DEFAULT_POST_ONLY_SECS

    def phase(self, now: float) -> tuple[EnginePhase, float] | None:
        """The phase at simulated time ``now`` and the seconds left in it, or None outside."""
        down_end = self.start + self.down_secs
        if self.start <= now < down_end:
            return "down", down_end - now
        post_end = down_end + self.post_only_secs
        if down_end <= now < post_end:
            return "post_only", post_end - now
        return None

    def describe(self) -> str:
        """This window as a SPEC token (absolute start)."""
        return f"restart@{_num(self.start)}:{_num(self.down_secs)}:{_num(self.post_only_secs)}"


@dataclass(frozen=True)
class FaultPlan:
    """What to inject: per-request probabilities, their scope, and restart windows."""

    probabilities: tuple[tuple[FaultKind, float], ...] = ()
    scope: Scope = "orders"
    slow_secs: float = DEFAULT_SLOW_SECS
    retry_after_secs: float = DEFAULT_RETRY_AFTER_SECS
    restarts: tuple[RestartWindow, ...] = ()

    def probability(self, kind: FaultKind) -> float:
        """The chance of ``kind`` per drawing request (0 when not given)."""
        return dict(self.probabilities).get(kind, 0.0)

    def engine_phase(self, now: float) -> tuple[EnginePhase, float] | None:
        """The restart phase at ``now`` (``down`` wins over ``post_only``) and seconds left."""
        phases = [p for p in (w.phase(now) for w in self.restarts) if p is not None]
        down = [left for phase, left in phases if phase == "down"]
        if down:
            return "down", max(down)
        post_only = [left for phase, left in phases if phase == "post_only"]
        if post_only:
            return "post_only", max(post_only)
        return None

    def describe(self) -> str:
        """The plan as a canonical SPEC (restart times absolute); ``none`` when empty."""
        tokens = [f"{kind}:{_num(p)}" for kind, p in self.probabilities]
        if self.scope != "orders":
            tokens.append(f"scope={self.scope}")
        if self.slow_secs != DEFAULT_SLOW_SECS:
            tokens.append(f"slow={_num(self.slow_secs)}")
        if self.retry_after_secs != DEFAULT_RETRY_AFTER_SECS:
            tokens.append(f"retry-after={_num(self.retry_after_secs)}")
        tokens += [w.describe() for w in self.restarts]
        return ",".join(tokens) or "none"


NO_FAULTS = FaultPlan()


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def _number(token: str, text: str, what: str, *, lo: float, hi: float = math.inf) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"bad fault spec token {token!r}: {what} is not a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        bound = f"between {_num(lo)} and {_num(hi)}" if math.isfinite(hi) else f">= {_num(lo)}"
        raise FaultSpecError(f"bad fault spec token {token!r}: {what} must be {bound}")
    return value


def _restart(token: str, now: float) -> RestartWindow:
    parts = token[len("restart@") :].split(":")
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise FaultSpecError(f"bad fault spec token {token!r}: expected restart@T[:DOWN[:POST]]")
    at = parts[0]
    if at[0] in "+-":
        start = now + _number(token, at, "the start offset", lo=-math.inf)
    else:
        start = _number(token, at, "the start time", lo=0)
    down = _number(token, parts[1], "DOWN", lo=0) if len(parts) > 1 else DEFAULT_DOWN_SECS
    post = _number(token, parts[2], "POST", lo=0) if len(parts) > 2 else DEFAULT_POST_ONLY_SECS
    return RestartWindow(start, down, post)


@dataclass
class _Draft:
    probabilities: dict[FaultKind, float] = field(default_factory=dict)
    scope: Scope = "orders"
    slow_secs: float = DEFAULT_SLOW_SECS
    retry_after_secs: float = DEFAULT_RETRY_AFTER_SECS
    restarts: list[RestartWindow] = field(default_factory=list)


def _apply_setting(draft: _Draft, token: str) -> None:
    name, _, value = token.partition("=")
    if name == "scope":
        if value not in ("orders", "all"):
            raise FaultSpecError(f"bad fault spec token {token!r}: scope must be orders or all")
        draft.scope = "orders" if value == "orders" else "all"
    elif name == "slow":
        draft.slow_secs = _number(token, value, "slow", lo=0)
    elif name == "retry-after":
        draft.retry_after_secs = _number(token, value, "retry-after", lo=0)
    else:
        raise FaultSpecError(f"bad fault spec token {token!r}: {_EXPECTED}")


def _apply_kind(draft: _Draft, token: str) -> None:
    name, _, value = token.partition(":")
    kind = next((k for k in KINDS if k == name), None)
    if kind is None or not value:
        raise FaultSpecError(f"bad fault spec token {token!r}: {_EXPECTED}")
    if kind in draft.probabilities:
        raise FaultSpecError(f"bad fault spec token {token!r}: {kind} is given twice")
    draft.probabilities[kind] = _number(token, value, "the probability", lo=0, hi=1)


def parse_fault_spec(spec: str, *, now: float = 0.0) -> FaultPlan:
    """The plan for ``spec``; relative restart times count from simulated time ``now``.

    Raises ``FaultSpecError`` naming the first bad token.
    """
    draft = _Draft()
    for raw in spec.split(","):
        token = "".join(raw.split())
        if not token or token == "none":
            continue
        if token.startswith("restart@"):
            draft.restarts.append(_restart(token, now))
        elif "=" in token:
            _apply_setting(draft, token)
        else:
            _apply_kind(draft, token)
    total = sum(draft.probabilities.values())
    if total > 1 + 1e-9:
        raise FaultSpecError(
            f"bad fault spec {spec!r}: the probabilities add up to {total:g}, more than 1"
        )
    return FaultPlan(
        probabilities=tuple((k, draft.probabilities[k]) for k in KINDS if k in draft.probabilities),
        scope=draft.scope,
        slow_secs=draft.slow_secs,
        retry_after_secs=draft.retry_after_secs,
        restarts=tuple(draft.restarts),
    )


class FaultInjector:
    """The live plan, its seeded RNG and the counts of what was injected; thread-safe."""

    def __init__(self, plan: FaultPlan = NO_FAULTS, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._plan = plan
        self._seed = seed
        self._rng = random.Random(seed)
        self._counts: dict[str, int] = {}

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        with self._lock:
            return self._plan

    @property
    def seed(self) -> int:
        """The seed the RNG was last started from."""
        with self._lock:
            return self._seed

    def set_plan(self, plan: FaultPlan, seed: int | None = None) -> None:
        """Replace the plan; with ``seed`` the RNG restarts from it (repeatable draws)."""
        with self._lock:
            self._plan = plan
            if seed is not None:
                self._seed = seed
                self._rng = random.Random(seed)

    def draw(self, *, order_endpoint: bool) -> FaultKind | None:
        """The fault for one request, or None. Requests outside the scope never draw."""
        with self._lock:
            plan = self._plan
            if not plan.probabilities or not (order_endpoint or plan.scope == "all"):
                return None
            r = self._rng.random()
            cumulative = 0.0
            for kind, p in plan.probabilities:
                cumulative += p
                if r < cumulative:
                    return kind
            return None

    def record(self, what: str) -> None:
        """Count one injected fault (or other event) under ``what``."""
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + 1

    def counts(self) -> dict[str, int]:
        """A copy of the counters."""
        with self._lock:
            return dict(self._counts)
