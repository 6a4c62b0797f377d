"""The simulator's fault SPEC parser, restart windows, seeded draws, and SimApp applying them."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest

from autotrader.clock import FakeClock
from autotrader.sim.auth import SimAuth
from autotrader.sim.faults import (
    NO_FAULTS,
    FaultInjector,
    FaultSpecError,
    RestartWindow,
    parse_fault_spec,
)
from autotrader.sim.routing import Request, Response, SimContext
from autotrader.sim.serialize import dec_str, encode_json
from autotrader.sim.server import SimApp


def test_full_spec_parses() -> None:
    plan = parse_fault_spec(
        "425:0.05, 429:0.05,500:0.05,slow:0.05,drop:0.05,lost:0.05,scope=all,slow=0.5,retry-after=7"
    )
    assert plan.probabilities == (
        ("425", 0.05),
        ("429", 0.05),
        ("500", 0.05),
        ("slow", 0.05),
        ("drop", 0.05),
        ("lost", 0.05),
    )
    assert plan.scope == "all"
    assert plan.slow_secs == 0.5
    assert plan.retry_after_secs == 7
    assert plan.probability("drop") == 0.05


@pytest.mark.parametrize("spec", ["", "none", " , ", "none,"])
def test_empty_specs_mean_no_faults(spec: str) -> None:
    assert parse_fault_spec(spec) == NO_FAULTS
    assert NO_FAULTS.describe() == "none"


def test_describe_round_trips() -> None:
    plan = parse_fault_spec("lost:0.25,429:0.5,scope=all,slow=3,restart@+100:30:60", now=1000)
    again = parse_fault_spec(plan.describe(), now=0)
    assert again == plan
    assert "restart@1100:30:60" in plan.describe()


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ("425:0.1,bogus:0.2", "'bogus:0.2'"),
        ("429:abc", "'429:abc'"),
        ("500:1.5", "'500:1.5'"),
        ("drop:-0.1", "'drop:-0.1'"),
        ("slow:nan", "'slow:nan'"),
        ("scope=some", "'scope=some'"),
        ("slow=-1", "'slow=-1'"),
        ("speed=3", "'speed=3'"),
        ("425", "'425'"),
        ("425:0.1,425:0.2", "'425:0.2'"),
        ("restart@", "'restart@'"),
        ("restart@soon:90", "'restart@soon:90'"),
        ("restart@+10:x", "'restart@+10:x'"),
        ("restart@1:2:3:4", "'restart@1:2:3:4'"),
    ],
)
def test_bad_tokens_are_named(spec: str, bad: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_fault_spec(spec)
    message = str(info.value)
    assert bad in message
    assert "\n" not in message


def test_probabilities_over_one_are_refused() -> None:
    with pytest.raises(FaultSpecError, match=r"add up to 1\.2"):
        parse_fault_spec("425:0.6,500:0.6")


def test_restart_window_phases() -> None:
    window = RestartWindow(start=1000, down_secs=90, post_only_secs=120)
    assert window.phase(999.9) is None
    assert window.phase(1000) == ("down", 90)
    assert window.phase(1089) == ("down", 1)
    assert window.phase(1090) == ("post_only", 120)
    assert window.phase(1209) == ("post_only", 1)
    assert window.phase(1210) is None


def test_restart_defaults_and_relative_times() -> None:
    plan = parse_fault_spec("restart@+60,restart@-100:50:10,restart@5000:1", now=1000)
    assert plan.restarts == (
        RestartWindow(1060, 90, 120),
        RestartWindow(900, 50, 10),
        RestartWindow(5000, 1, 120),
    )
    assert plan.engine_phase(1000) is None
    assert plan.engine_phase(1060) == ("down", 90)
    assert plan.engine_phase(1150) == ("post_only", 120)
    assert plan.engine_phase(955) == ("post_only", 5)


def test_down_wins_over_post_only_when_windows_overlap() -> None:
    plan = parse_fault_spec("restart@0:10:100,restart@50:10:10")
    assert plan.engine_phase(20) == ("post_only", 90)
    assert plan.engine_phase(55) == ("down", 5)


def test_draws_follow_probabilities_and_scope() -> None:
    injector = FaultInjector(parse_fault_spec("429:0.2,drop:0.3"), seed=7)
    draws = Counter(injector.draw(order_endpoint=True) for _ in range(10_000))
    assert set(draws) == {"429", "drop", None}
    assert 1_800 < draws["429"] < 2_200
    assert 2_800 < draws["drop"] < 3_200
    # Outside the default scope (orders) nothing is ever drawn.
    assert {injector.draw(order_endpoint=False) for _ in range(1_000)} == {None}
    injector.set_plan(parse_fault_spec("500:1,scope=all"))
    assert injector.draw(order_endpoint=False) == "500"


def test_draws_repeat_for_the_same_seed() -> None:
    plan = parse_fault_spec("425:0.1,429:0.1,500:0.1,slow:0.1,drop:0.1,lost:0.1")
    first = FaultInjector(plan, seed=42)
    second = FaultInjector(plan, seed=42)
    other = FaultInjector(plan, seed=43)
    a = [first.draw(order_endpoint=True) for _ in range(500)]
    assert a == [second.draw(order_endpoint=True) for _ in range(500)]
    assert a != [other.draw(order_endpoint=True) for _ in range(500)]
    # Re-seeding restarts the sequence.
    first.set_plan(plan, seed=42)
    assert [first.draw(order_endpoint=True) for _ in range(500)] == a


def test_counts() -> None:
    injector = FaultInjector()
    assert injector.draw(order_endpoint=True) is None
    injector.record("drop")
    injector.record("drop")
    injector.record("requests")
    assert injector.counts() == {"drop": 2, "requests": 1}


# --- the app applying the plan (a stand-in world, no sockets) ----------------------------------


class StandInWorld:
    """Just what SimApp needs from a world: a lock and advance()."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.advances = 0

    def advance(self) -> None:
        assert self.lock._is_owned()  # type: ignore[attr-defined]
        self.advances += 1


def make_app(spec: str = "", now: float = 1_000.0) -> tuple[SimApp, list[str]]:
    clock = FakeClock(now)
    ctx = SimContext(
        world=StandInWorld(),  # type: ignore[arg-type]
        clock=clock,
        faults=FaultInjector(parse_fault_spec(spec, now=now), seed=1),
        auth=SimAuth(),
    )
    app = SimApp(ctx)
    calls: list[str] = []

    def handler(ctx: SimContext, req: Request) -> dict[str, str]:
        calls.append(req.path)
        if req.param("crash"):
            raise RuntimeError("boom")
        return {"ok": "yes"}

    app.router.add("POST", "/test-order", handler, "order")
    app.router.add("GET", "/test-read", handler)
    return app, calls


def request(method: str, path: str, **query: str) -> Request:
    return Request(method, path, {k: [v] for k, v in query.items()}, {})


def test_lost_does_the_work_then_drops_and_drop_does_nothing() -> None:
    app, calls = make_app("lost:1")
    assert app.handle(request("POST", "/test-order")).response is None
    assert calls == ["/test-order"]
    app.ctx.faults.set_plan(parse_fault_spec("drop:1"))
    assert app.handle(request("POST", "/test-order")).response is None
    assert calls == ["/test-order"]


def test_error_faults_answer_without_running_the_route() -> None:
    app, calls = make_app("429:1,retry-after=2.5")
    reply = app.handle(request("POST", "/test-order")).response
    assert reply is not None and reply.status == 429
    assert reply.headers == {"Retry-After": "3"}
    assert reply.body == {"error": "Too Many Requests"}
    # Reads are outside the default scope.
    read = app.handle(request("GET", "/test-read")).response
    assert read is not None and read.status == 200
    assert calls == ["/test-read"]
    assert app.ctx.faults.counts()["429"] == 1


def test_restart_down_phase_is_425_on_order_routes_only() -> None:
    app, calls = make_app("restart@+0:90:120")
    reply = app.handle(request("POST", "/test-order")).response
    assert reply is not None and reply.status == 425
    assert app.handle(request("GET", "/test-read")).response == Response(200, {"ok": "yes"})
    app.ctx.clock.advance(90)  # type: ignore[attr-defined]
    assert app.handle(request("POST", "/test-order")).response == Response(200, {"ok": "yes"})
    assert calls == ["/test-read", "/test-order"]


def test_a_crashing_route_is_a_500_and_routing_errors_are_json() -> None:
    app, _ = make_app()
    crash = app.handle(request("GET", "/test-read", crash="1")).response
    assert crash == Response(500, {"error": "Internal server error"})
    missing = app.handle(request("GET", "/nowhere")).response
    assert missing == Response(404, {"error": "not found"})
    wrong = app.handle(request("DELETE", "/test-read")).response
    assert wrong is not None and wrong.status == 405


def test_world_is_advanced_under_its_lock_once_per_request() -> None:
    app, _ = make_app()
    for _ in range(3):
        app.handle(request("GET", "/test-read"))
    app.handle(request("GET", "/_sim/state"))  # control routes leave the world alone
    assert app.ctx.world.advances == 3  # type: ignore[attr-defined]


def test_control_routes_are_never_faulted() -> None:
    app, _ = make_app("500:1,scope=all")
    state = app.handle(request("GET", "/_sim/state")).response
    assert state is not None and state.status == 200
    assert state.body["spec"] == "500:1,scope=all"


def test_decimals_are_written_from_their_digits() -> None:
    body = {"a": Decimal("0.07"), "b": [Decimal("100"), Decimal("0.50")], "c": "x", "d": None}
    assert encode_json(body) == b'{"a":0.07,"b":[100,0.5],"c":"x","d":null}'
    assert dec_str(Decimal("1E+2")) == "100" and dec_str(Decimal("-0")) == "0"
