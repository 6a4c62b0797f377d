"""The formula language of filter/condition nodes: what it allows, what it refuses, and how."""

from __future__ import annotations

import pytest

from autotrader.strategies.expr import (
    FIELDS,
    FUNCTIONS,
    MAX_DEPTH,
    ExprError,
    ItemError,
    check,
    compile_formula,
)

ITEM = {name: 1.0 for name in FIELDS} | {"price": 0.4, "volume": 600_000.0, "momentum": 0.07}


def test_the_whitelists_are_the_documented_ones() -> None:
    assert set(FIELDS) == {
        "price",
        "volume",
        "liquidity",
        "spread",
        "momentum_1h",
        "momentum_4h",
        "momentum_24h",
        "momentum",
        "whale_net_flow_1h",
        "whale_net_flow",
        "minutes_on_watchlist",
        "hours_to_close",
    }
    assert set(FUNCTIONS) == {"abs", "min", "max", "round"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("momentum > 0.05 and volume > 500000", True),
        ("momentum > 0.1 or price < 0.3", False),
        ("not (price > 0.5)", True),
        ("0.3 < price <= 0.4", True),
        ("abs(momentum - 0.1) < 0.05", True),
        ("max(price, 0.5) == 0.5 and min(1, 2, price) == price", True),
        ("round(price * 100) == 40", True),
        ("round(momentum, 1) == 0.1", True),
        ("(price if volume > 1e6 else 1 - price) > 0.5", True),
        ("2 ** 10 > volume / 1000", True),
        ("volume // 1000 % 7 == 5", True),
        ("-price < +price", True),
        ("True and true and not false", True),
        ("momentum", True),
    ],
)
def test_allowed_formulas_evaluate(source: str, expected: bool) -> None:
    assert check(source) == []
    assert compile_formula(source).evaluate(ITEM) is expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__class__", "'__' is not allowed"),
        ("().__class__", "'__' is not allowed"),
        ("price.__class__.__bases__", "'__' is not allowed"),
        ("price.real > 0", "attribute access (x.y) is not allowed"),
        ("(1).conjugate()", "only the functions abs, min, max and round may be called"),
        ("9**9**9", "exponent 3.8742e+08 is too large"),
        ("price ** 1000 > 1", "exponent 1000 is too large"),
        ("10 ** 16 > price", "is out of range"),
        ("1/0 > price", "division by zero"),
        ("99999999999999999999 > price", "number literal too large"),
        ("'a' * 1000 == price", "text literals are not allowed"),
        ("'" + "x" * 400 + "' == price", "text literals are not allowed"),
        ("[x for x in (1, 2)]", "comprehensions are not allowed"),
        ("{x: 1 for x in (1,)}", "comprehensions are not allowed"),
        ("sum(x for x in (1, 2))", "comprehensions are not allowed"),
        ("(lambda: 1)()", "lambda is not allowed"),
        ("lambda: 1", "lambda is not allowed"),
        ("[1, 2][0] > price", "indexing (x[...]) is not allowed"),
        ("[1, 2] == price", "lists are not allowed"),
        ("(price, 1)", "tuples are not allowed"),
        ("f'{price}'", "f-strings are not allowed"),
        ("(y := 1) > price", "assignment (:=) is not allowed"),
        ("max(*(1, 2))", "starred arguments are not allowed"),
        ("round(price, ndigits=2) > 0", "round() takes no keyword arguments"),
        ("round(1, 2, 3) > 0", "round() takes 1..2 arguments"),
        ("open('x')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("__import__('os')", "'__' is not allowed"),
        ("_private > 1", "names starting with '_' are not allowed"),
        ("momentun > 0.05", "unknown name 'momentun'"),
        ("abs > 1", "'abs' is a function"),
        ("None", "the literal None is not allowed"),
        ("price >", "syntax error"),
        ("price = 1", "syntax error"),
        ("import os", "syntax error"),
        ("", "empty formula"),
        ("   ", "empty formula"),
        ("price + " * 70 + "1 > 0", "formula too long"),
        ("-" * 300 + "price > 0", "formula too complex"),
        ("abs(" * (MAX_DEPTH + 2) + "price" + ")" * (MAX_DEPTH + 2) + " > 0", "nested too deeply"),
        ("not " * 30 + "price", "nested too deeply"),
    ],
)
def test_hostile_and_broken_formulas_are_refused_with_a_clear_error(
    source: str, message: str
) -> None:
    problems = check(source)
    assert problems, source
    assert any(message in p for p in problems), problems
    assert all("\n" not in p for p in problems)
    with pytest.raises(ExprError) as info:
        compile_formula(source)
    assert message in str(info.value)


def test_a_missing_value_is_an_item_error_naming_the_field() -> None:
    f = compile_formula("momentum > 0.05 and volume > 500000")
    assert f.names == {"momentum", "volume"}
    with pytest.raises(ItemError, match="momentum is not known for this market"):
        f.evaluate({"volume": 1e6})
    with pytest.raises(ItemError, match="momentum is not known"):
        f.evaluate({"volume": 1e6, "momentum": None})


@pytest.mark.parametrize(
    ("source", "values", "message"),
    [
        ("1 / spread > 2", {"spread": 0.0}, "division by zero"),
        ("volume * volume > 1", {"volume": 1e9}, "out of range"),
        ("2 ** price > 1", {"price": 200.0}, "exponent 200 is too large"),
        ("(-price) ** 0.5 > 1", {"price": 2.0}, "fractional power of a negative number"),
        ("round(price, price) > 1", {"price": 20.0}, "round() takes 0..12 digits"),
    ],
)
def test_arithmetic_failures_on_one_item_are_item_errors(
    source: str, values: dict[str, float], message: str
) -> None:
    f = compile_formula(source)
    with pytest.raises(ItemError, match=message.replace("(", r"\(").replace(")", r"\)")):
        f.evaluate(values)


def test_comparisons_refuse_non_numbers_at_evaluation() -> None:
    # Booleans are not numbers here: "price > (volume > 1)" makes no sense.
    with pytest.raises(ItemError, match="expected a number, got bool"):
        compile_formula("price > (volume > 1)").evaluate(ITEM)
