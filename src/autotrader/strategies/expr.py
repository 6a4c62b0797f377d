"""The formula language of ``filter`` / ``condition`` nodes: small, safe and bounded.

A formula is one Python-syntax expression over an item's fields, e.g.
``momentum > 0.05 and volume > 500000``. It is evaluated by ``simpleeval`` but only after a
static check of the whole syntax tree against explicit whitelists, so what reaches the
evaluator is already known to be harmless:

* names: only ``FIELDS`` (the item's metrics) plus ``true``/``false`` spellings of Python's
  constants; functions: only ``FUNCTIONS`` (abs, min, max, round), called by name with
  positional arguments;
* operators: arithmetic (``+ - * / // % **``), comparisons (chains too), ``and or not`` and
  ``x if c else y``. No attribute access (so no ``__class__`` or any dunder), no subscripts,
  no comprehensions, lambdas, f-strings, walrus, starred arguments or keyword arguments;
* no string literals at all (no field is text), numbers only up to ``MAX_LITERAL``;
* sizes: at most 500 characters (also the config's limit), ``MAX_NODES`` syntax nodes and
  ``MAX_DEPTH`` levels of nesting; ``**`` exponents at most ``MAX_EXPONENT`` in magnitude and
  every arithmetic operand at most ``MAX_OPERAND``.

Time is bounded by construction: there are no loops, every node is evaluated at most once
and every operation is on floats of bounded size.

``check(source)`` lists the problems of a formula (the config validator uses it);
``compile_formula`` returns a ``Formula`` whose ``evaluate(values)`` raises ``ItemError`` when a
value it needs is missing for one item (e.g. ``momentum`` before any ``check_momentum``) or the
arithmetic fails (division by zero): the caller drops that item, it never stops the run.
"""

from __future__ import annotations

import ast
import math
import operator
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import InvalidExpression, SimpleEval  # type: ignore[import-untyped]

# The one list of what a formula may name, with what each means (shown by errors and docs).
FIELDS: Mapping[str, str] = {
    "price": "price of the first outcome (Yes), 0..1: book midpoint, else Gamma's price",
    "volume": "total traded volume in USD (Gamma)",
    "liquidity": "order book liquidity in USD (Gamma)",
    "spread": "best ask minus best bid of the first outcome's book",
    "momentum_1h": "momentum score over 1 hour, -1..1 (check_momentum)",
    "momentum_4h": "momentum score over 4 hours, -1..1 (check_momentum)",
    "momentum_24h": "momentum score over 24 hours, -1..1 (check_momentum)",
    "momentum": "the last check_momentum result, -1..1",
    "whale_net_flow_1h": "net USD flow of large trades over the last hour (whale_activity)",
    "whale_net_flow": "the last whale_activity result, net USD",
    "minutes_on_watchlist": "minutes since the market was added to the watchlist",
    "hours_to_close": "hours until the market's end date",
}

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 12
MAX_EXPONENT = 100.0
MAX_OPERAND = 1e15
MAX_LITERAL = 1e15

_CONSTANTS = {"true": True, "false": False, "True": True, "False": False}


class ExprError(ValueError):
    """A formula that is not allowed (found when the config is checked)."""


class ItemError(ValueError):
    """A formula that cannot be evaluated for one item; the item is dropped."""


# --- functions and operators: every one checks its operands -------------------------------------


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(value) or abs(value) > MAX_OPERAND:
        raise ItemError(f"number {value:g} is out of range (|x| <= {MAX_OPERAND:g})")
    return float(value)


def _arith(fn: Callable[[float, float], float]) -> Callable[[Any, Any], float]:
    def apply(a: Any, b: Any) -> float:
        try:
            result = fn(_num(a), _num(b))
        except ZeroDivisionError:
            raise ItemError("division by zero") from None
        except OverflowError:
            raise ItemError("result too large") from None
        return _num(result)

    return apply


def _power(a: float, b: float) -> float:
    if abs(b) > MAX_EXPONENT:
        raise ItemError(f"exponent {b:g} is too large (|exponent| <= {MAX_EXPONENT:g})")
    if a < 0 and not b.is_integer():
        raise ItemError("fractional power of a negative number")
    return float(a**b)


def _compare(fn: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def apply(a: Any, b: Any) -> bool:
        return fn(_num(a), _num(b))

    return apply


def _neg(a: Any) -> float:
    return -_num(a)


def _pos(a: Any) -> float:
    return +_num(a)


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: _arith(operator.add),
    ast.Sub: _arith(operator.sub),
    ast.Mult: _arith(operator.mul),
    ast.Div: _arith(operator.truediv),
    ast.FloorDiv: _arith(operator.floordiv),
    ast.Mod: _arith(operator.mod),
    ast.Pow: _arith(_power),
    ast.Eq: _compare(operator.eq),
    ast.NotEq: _compare(operator.ne),
    ast.Lt: _compare(operator.lt),
    ast.LtE: _compare(operator.le),
    ast.Gt: _compare(operator.gt),
    ast.GtE: _compare(operator.ge),
    ast.USub: _neg,
    ast.UAdd: _pos,
    ast.Not: operator.not_,
}


def _abs(x: Any) -> float:
    return abs(_num(x))


def _min(*xs: Any) -> float:
    if not xs:
        raise ItemError("min() needs at least one number")
    return min(_num(x) for x in xs)


def _max(*xs: Any) -> float:
    if not xs:
        raise ItemError("max() needs at least one number")
    return max(_num(x) for x in xs)


def _round(x: Any, digits: Any = 0) -> float:
    places = _num(digits)
    if not places.is_integer() or not 0 <= places <= 12:
        raise ItemError("round() takes 0..12 digits")
    return float(round(_num(x), int(places)))


FUNCTIONS: Mapping[str, Callable[..., float]] = {
    "abs": _abs,
    "min": _min,
    "max": _max,
    "round": _round,
}

_ARITY = {"abs": (1, 1), "min": (1, 8), "max": (1, 8), "round": (1, 2)}

# --- the static check ----------------------------------------------------------------------------

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    *OPERATORS,
    ast.And,
    ast.Or,
)

_REFUSED: Mapping[type[ast.AST], str] = {
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.Subscript: "indexing (x[...]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "await is not allowed",
}


def _depth(node: ast.AST, level: int = 1) -> int:
    children = list(ast.iter_child_nodes(node))
    if level > MAX_DEPTH + 2 or not children:
        return level
    return max(_depth(c, level + 1) for c in children)


def _constant_problem(node: ast.Constant) -> str | None:
    value = node.value
    if isinstance(value, str | bytes):
        return "text literals are not allowed (every field is a number)"
    if value is None or value is Ellipsis or isinstance(value, complex):
        return f"the literal {value!r} is not allowed"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and (not math.isfinite(value) or abs(value) > MAX_LITERAL):
        return f"number literal too large (at most {MAX_LITERAL:g})"
    return None


def _call_problem(node: ast.Call) -> str | None:
    if not isinstance(node.func, ast.Name):
        return "only the functions abs, min, max and round may be called"
    name = node.func.id
    if name not in FUNCTIONS:
        return f"unknown function {name!r} (allowed: {', '.join(FUNCTIONS)})"
    if node.keywords:
        return f"{name}() takes no keyword arguments"
    lo, hi = _ARITY[name]
    if not lo <= len(node.args) <= hi:
        return f"{name}() takes {lo}..{hi} arguments, got {len(node.args)}"
    return None


def _node_problem(node: ast.AST, calls: set[int]) -> str | None:
    kind = type(node)
    if kind in _REFUSED:
        return _REFUSED[kind]
    if not isinstance(node, _ALLOWED_NODES):
        return f"{kind.__name__} is not allowed in a formula"
    if isinstance(node, ast.Constant):
        return _constant_problem(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right.value if isinstance(node.right, ast.Constant) else None
        if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
            return f"exponent {exponent:g} is too large (|exponent| <= {MAX_EXPONENT:g})"
    if isinstance(node, ast.Call):
        calls.add(id(node.func))
        return _call_problem(node)
    if isinstance(node, ast.Name) and id(node) not in calls:
        if node.id.startswith("_"):
            return f"names starting with '_' are not allowed ({node.id!r})"
        if node.id not in FIELDS and node.id not in _CONSTANTS:
            if node.id in FUNCTIONS:
                return f"{node.id!r} is a function: call it, e.g. {node.id}(x)"
            return f"unknown name {node.id!r} (known: {', '.join(FIELDS)})"
    return None


def _parse(source: str) -> ast.Expression:
    if not source.strip():
        raise ExprError("empty formula")
    if len(source) > MAX_LENGTH:
        raise ExprError(f"formula too long ({len(source)} characters, at most {MAX_LENGTH})")
    if "__" in source:
        raise ExprError("'__' is not allowed in a formula")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"syntax error{where}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExprError("formula cannot be parsed (nested too deeply?)") from None
    return tree


def _collect(node: ast.AST, calls: set[int], found: list[str]) -> None:
    """Problems of ``node`` and its children; a refused node's children are not looked at."""
    problem = _node_problem(node, calls)
    if problem is not None:
        if problem not in found:
            found.append(problem)
        if not isinstance(node, ast.Name | ast.Constant | ast.Call):
            return
    for child in ast.iter_child_nodes(node):
        _collect(child, calls, found)


def _constant_parts(tree: ast.Expression) -> list[str]:
    """Problems of the parts computed from literals alone (e.g. ``9**9**9``, ``1/0``)."""
    for node in ast.walk(tree.body):
        if not isinstance(node, ast.BinOp | ast.UnaryOp):
            continue
        if any(isinstance(n, ast.Name) and n.id not in _CONSTANTS for n in ast.walk(node)):
            continue
        try:
            _evaluate(node, dict(_CONSTANTS))
        except ItemError as exc:
            return [f"{ast.unparse(node)[:60]}: {exc}"]
    return []


def _problems(tree: ast.Expression) -> list[str]:
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        return [f"formula too complex ({count} parts, at most {MAX_NODES})"]
    if _depth(tree) > MAX_DEPTH + 1:
        return [f"formula nested too deeply (at most {MAX_DEPTH} levels)"]
    found: list[str] = []
    _collect(tree, set(), found)
    return found or _constant_parts(tree)


def check(source: str) -> list[str]:
    """The problems of formula ``source``, one line each (empty when it is allowed)."""
    try:
        return _problems(_parse(source))
    except ExprError as exc:
        return [str(exc)]


_EVALUATORS = threading.local()


def _evaluator(names: dict[str, Any]) -> SimpleEval:
    """This thread's evaluator, set to ``names``.

    Built once per thread, not per evaluation: ``SimpleEval()`` sets up its node table and
    warning filters each time, which cost more than the evaluation itself, and a scheduler
    evaluates formulas for thousands of items a minute. Evaluation never awaits and the
    whitelisted functions never evaluate, so one evaluator per thread is never re-entered.
    """
    evaluator: SimpleEval | None = getattr(_EVALUATORS, "evaluator", None)
    if evaluator is None:
        evaluator = SimpleEval(operators=OPERATORS, functions=dict(FUNCTIONS), names={})
        _EVALUATORS.evaluator = evaluator
    evaluator.names = names
    return evaluator


def _evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    """Evaluate a checked syntax tree with simpleeval, every failure as ``ItemError``."""
    evaluator = _evaluator(names)
    try:
        return evaluator.eval("", previously_parsed=node)
    except ItemError:
        raise
    except (InvalidExpression, ArithmeticError, TypeError, ValueError) as exc:
        raise ItemError(" ".join(str(exc).split()) or type(exc).__name__) from None


# --- compiled formulas ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Formula:
    """A checked formula, ready to evaluate against items' values."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, float | None]) -> bool:
        """Whether the formula holds for an item with these field ``values``.

        A field the formula uses but the item lacks (None or absent), and any arithmetic
        failure, raise ``ItemError`` naming it.
        """
        names: dict[str, Any] = dict(_CONSTANTS)
        for name in sorted(self.names):
            value = values.get(name)
            if value is None:
                raise ItemError(f"{name} is not known for this market")
            names[name] = float(value)
        result = _evaluate(self.tree.body, names)
        return bool(result)


def compile_formula(source: str) -> Formula:
    """A ``Formula`` for ``source``; ``ExprError`` listing its problems if it is not allowed."""
    tree = _parse(source)
    problems = _problems(tree)
    if problems:
        raise ExprError("; ".join(problems))
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in FIELDS)
    return Formula(source, tree, names)


__all__ = ["FIELDS", "FUNCTIONS", "ExprError", "Formula", "ItemError", "check", "compile_formula"]
