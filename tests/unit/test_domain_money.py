"""Money helpers: Decimal only, snapped to ticks, shares and USDC units."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.domain.money import (
    SHARE_STEP,
    TICK_SIZES,
    USD_STEP,
    on_tick,
    price_in_range,
    round_shares,
    round_usd,
    snap_price,
    to_decimal,
)


def test_to_decimal_reads_str_int_decimal() -> None:
    assert to_decimal("0.41") == D("0.41")
    assert to_decimal(" 12 ") == D(12)
    assert to_decimal(5) == D(5)
    assert to_decimal(D("1.5")) == D("1.5")


@pytest.mark.parametrize("bad", [0.1, True, None, [1]])
def test_to_decimal_refuses_floats_and_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", D("NaN")])
def test_to_decimal_refuses_garbage(bad: str | D) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_tick_sizes_are_decimals() -> None:
    assert (D("0.1"), D("0.01"), D("0.001"), D("0.0001")) == TICK_SIZES
    assert D("0.01") == SHARE_STEP and D("0.000001") == USD_STEP


@pytest.mark.parametrize(
    ("price", "tick", "mode", "expected"),
    [
        ("0.405", "0.01", "nearest", "0.41"),  # halves round up
        ("0.4049", "0.01", "nearest", "0.40"),
        ("0.405", "0.01", "down", "0.40"),
        ("0.401", "0.01", "up", "0.41"),
        ("0.40", "0.01", "up", "0.40"),
        ("0.9651", "0.001", "down", "0.965"),
        ("0.35", "0.1", "nearest", "0.4"),
    ],
)
def test_snap_price(price: str, tick: str, mode: str, expected: str) -> None:
    got = snap_price(D(price), D(tick), mode)  # type: ignore[arg-type]
    assert got == D(expected) and got.as_tuple().exponent == D(tick).as_tuple().exponent


def test_snap_price_refuses_a_bad_mode_or_tick() -> None:
    with pytest.raises(ValueError, match="rounding mode"):
        snap_price(D("0.4"), D("0.01"), "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        snap_price(D("0.4"), D(0))


def test_on_tick_and_range() -> None:
    assert on_tick(D("0.41"), D("0.01")) and not on_tick(D("0.415"), D("0.01"))
    assert on_tick(D("0.415"), D("0.001"))
    assert price_in_range(D("0.01"), D("0.01")) and price_in_range(D("0.99"), D("0.01"))
    assert not price_in_range(D("0.995"), D("0.01")) and not price_in_range(D(0), D("0.01"))
    assert price_in_range(D("0.999"), D("0.001"))


def test_round_shares_and_usd() -> None:
    assert round_shares(D("24.3902")) == D("24.39")  # down by default
    assert round_shares(D("24.3999")) == D("24.39")
    assert round_shares(D("24.391"), "up") == D("24.40")
    assert round_usd(D("1.0000005")) == D("1.000001")
    assert round_usd(D("1.0000004999")) == D("1.000000")
    assert round_usd(D("0.41299587")) == D("0.412996")


@given(st.decimals(min_value=D("0.0001"), max_value=D("0.9999"), places=6))
def test_snapped_prices_are_on_tick_and_bracket_the_input(p: D) -> None:
    for tick in TICK_SIZES:
        down, up = snap_price(p, tick, "down"), snap_price(p, tick, "up")
        assert on_tick(down, tick) and on_tick(up, tick)
        assert down <= p <= up and up - down in (0, tick)
