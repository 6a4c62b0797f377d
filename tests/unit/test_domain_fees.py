"""Fee schedules: fee = shares × rate × (p × (1 − p)) ** exponent, on takers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from autotrader.domain.fees import FREE, FeeSchedule

CRYPTO = FeeSchedule(rate=D("0.07"), exponent=D(1), taker_only=True, rebate_rate=D("0.2"))


def test_taker_fee_hand_computed() -> None:
    assert CRYPTO.taker_fee(D(100), D("0.40")) == D("1.68")  # 100 × 0.07 × 0.4 × 0.6
    assert CRYPTO.taker_fee(D(70), D("0.41")) == D("1.18531")  # 70 × 0.07 × 0.41 × 0.59
    # 3 × 0.07 × 0.333 × 0.667 = 0.04664331 -> six decimals, halves up
    assert CRYPTO.taker_fee(D(3), D("0.333")) == D("0.046643")
    # 1 × 0.07 × 0.5 × 0.5 = 0.0175: the fee peaks at p = 0.5
    assert CRYPTO.taker_fee(D(1), D("0.5")) == D("0.0175")


def test_exponent() -> None:
    sq = FeeSchedule(rate=D("0.07"), exponent=D(2))
    assert sq.taker_fee(D(100), D("0.40")) == D("0.4032")  # 100 × 0.07 × 0.24² = 0.4032


def test_free_and_maker() -> None:
    assert FREE.taker_fee(D(100), D("0.4")) == 0 and FREE.is_free
    assert CRYPTO.maker_fee(D(100), D("0.4")) == 0  # takerOnly
    both = FeeSchedule(rate=D("0.07"), taker_only=False)
    assert both.maker_fee(D(100), D("0.4")) == D("1.68")
    assert CRYPTO.taker_fee(D(0), D("0.4")) == 0
    assert CRYPTO.taker_fee(D(10), D(1)) == 0  # p × (1 − p) = 0 at the extremes


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": D("-0.01")},
        {"exponent": D(0)},
        {"rebate_rate": D("1.5")},
        {"rate": 0.07},
        {"rate": D("NaN")},
    ],
)
def test_bad_schedules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FeeSchedule(**kwargs)  # type: ignore[arg-type]


def test_bad_fee_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        CRYPTO.taker_fee(D(1), D("1.2"))
    with pytest.raises(ValueError, match="shares"):
        CRYPTO.taker_fee(D(-1), D("0.5"))
