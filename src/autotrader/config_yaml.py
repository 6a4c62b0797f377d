"""Reading the YAML file with its source positions, and locating every problem in it.

PyYAML's node graph keeps a mark (line, column) per node; the file is composed once, checked for
duplicate keys (which PyYAML would silently collapse) and for secrets, constructed, and then
validated. Each pydantic error location is walked down the node graph to the node it is about.

Memory: the node graph of a big file (2,000 strategies) is tens of MB of small objects. Were the
settings validated while it lives, their objects would be spread among the graph's and, once
the graph is freed, pin most of that memory for the daemon's life. So for a big file the
constructed data is copied out (pickle makes new objects), the graph freed, and only then the
settings built; a validation error is located by composing the text again.
"""

from __future__ import annotations

import gc
import pickle
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError

from autotrader.config_messages import describe_error, scalar_text
from autotrader.errors import ConfigError, ConfigProblem
from autotrader.heap import release_heap

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
SecretFinder = Callable[["Source"], list[tuple[Loc, ConfigProblem]]]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: only true/false are booleans, no base-60 numbers.

    Under YAML 1.1 `outcome: Yes` is a boolean and `start: 23:00` is the number 1380.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """As SafeLoader, but a value its tag cannot hold (``2026-02-30``) is a located error."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            kind = str(node.tag).rsplit(":", 1)[-1]
            shown = (
                scalar_text(str(node.value), True) if isinstance(node, yaml.ScalarNode) else None
            )
            what = f"invalid {kind} {shown}" if shown else f"invalid {kind}"
            raise ConstructorError(None, None, f"{what}: {exc}", node.start_mark) from None


_YAML11_ONLY = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# Decimal only: PyYAML would read 010 as octal, and a wallet address written 0x… must stay text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


# libyaml's composer (when PyYAML was built with it) makes the same node graph with the same
# marks 4-5 times faster and in ~40 % less memory: a 2,000-strategy file is a graph of ~10⁵
# nodes, and its high-water mark stays in the process for as long as it lives.
_CBase: type[Any] | None = getattr(yaml, "CSafeLoader", None)
if _CBase is not None:

    class _CLoader(_CBase):  # type: ignore[misc,valid-type]
        """libyaml's parser with ``_Loader``'s resolvers (composing only)."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers

BIG_FILE = 64 * 1024  # characters: above this, the heap is given back after a load


def _compose_text(text: str) -> yaml.Node | None:
    """The document's node graph; a syntax error is raised by the pure-Python parser, whose
    messages (and marks) are the ones the project words its errors with."""
    if _CBase is not None:
        try:
            root: yaml.Node | None = _CLoader(text).get_single_node()
        except yaml.YAMLError:
            pass  # parsed again below, for the located message
        else:
            return root
    return _Loader(text).get_single_node()


class Source:
    """A composed YAML document and the name its problems are reported under."""

    def __init__(self, name: str, root: yaml.Node, text: str = "") -> None:
        self.name = name
        self.root = root
        self.text = text  # what was composed (to compose it again after freeing the graph)

    def problem(self, node: yaml.Node | None, path: str, message: str) -> ConfigProblem:
        """A problem located at ``node`` (1-based line and column)."""
        if node is None:
            return ConfigProblem(self.name, None, None, path, message)
        mark = node.start_mark
        return ConfigProblem(self.name, mark.line + 1, mark.column + 1, path, message)


def format_loc(loc: Loc) -> str:
    """``("strategies", 1, "limits")`` → ``strategies[1].limits``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "<complex key>"


def locate(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, yaml.Node | None, bool]:
    """Walk ``loc`` down from ``root``: (deepest node reached, its key node, whole loc found)."""
    node, key_node = root, None
    for part in loc:
        if part == "[key]":
            # pydantic's marker for an invalid mapping key: the key itself is at fault.
            return (key_node or node), key_node, True
        child = _child(node, part)
        if child is None:
            return node, key_node, False
        key_node, node = child
    return node, key_node, True


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            return None, node.value[part]
        return None
    if isinstance(node, yaml.MappingNode):
        # The last one wins, as in PyYAML (and a `<<:` merge puts inherited keys first).
        for key, value in reversed(node.value):
            if _key_text(key) == str(part):
                return key, value
    return None


def iter_mappings(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, yaml.MappingNode]]:
    """Every mapping node of the document with its location, depth first."""
    if isinstance(node, yaml.MappingNode):
        yield loc, node
        for key, value in node.value:
            yield from iter_mappings(value, (*loc, _key_text(key)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from iter_mappings(item, (*loc, i))


def duplicate_keys(source: Source) -> list[ConfigProblem]:
    """Keys given twice in one mapping (PyYAML would keep only the last one, silently)."""
    found = []
    for loc, mapping in iter_mappings(source.root):
        first: dict[str, yaml.Node] = {}
        for key, _ in mapping.value:
            text = _key_text(key)
            if text in first:
                line = first[text].start_mark.line + 1
                found.append(
                    source.problem(
                        key, format_loc((*loc, text)), f"duplicate key (first at line {line})"
                    )
                )
            else:
                first[text] = key
    return found


def compose(path: Path, name: str) -> tuple[Source | None, list[ConfigProblem]]:
    """Read and compose ``path``; problems if it cannot be read or is not one YAML mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ConfigProblem(name, None, None, "", "no such file")]
    except IsADirectoryError:
        return None, [ConfigProblem(name, None, None, "", "is a directory, not a file")]
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [ConfigProblem(name, None, None, "", f"cannot read: {reason}")]
    try:
        root = _compose_text(text)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(name, exc)]
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors for files
        return None, [ConfigProblem(name, None, None, "", f"invalid YAML: {exc}")]
    if root is None:
        return None, [
            ConfigProblem(name, 1, 1, "", "the file is empty (expected a mapping of settings)")
        ]
    source = Source(name, root, text)
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        return None, [
            source.problem(
                root, "", f"expected a mapping of settings at the top level (got {kind})"
            )
        ]
    return source, []


def _syntax_problem(name: str, exc: yaml.MarkedYAMLError) -> ConfigProblem:
    mark = exc.problem_mark or exc.context_mark
    message = str(exc.problem or exc.context or "not valid YAML")
    if exc.context and exc.problem:
        message = f"{exc.context}: {exc.problem}"
        if exc.context_mark and exc.context_mark is not mark:
            message += f" (started at line {exc.context_mark.line + 1})"
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    return ConfigProblem(name, line, column, "", f"invalid YAML: {message}")


def construct(source: Source) -> Any:
    """The Python data of the composed document."""
    loader = _Loader("")
    return loader.construct_document(source.root)


def load_validated(path: Path, model: type[M], secrets: SecretFinder) -> M:
    """Compose, check and validate ``path`` as ``model``; ConfigError lists every problem.

    ``secrets`` finds values that must not be in the file; errors under them are not repeated.
    """
    name = str(path)
    source, problems = compose(path, name)
    if source is None:
        raise ConfigError(problems)
    problems = duplicate_keys(source)
    found = secrets(source)
    problems += [problem for _, problem in found]
    refused = [loc for loc, _ in found]
    try:
        data = construct(source)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(sorted([*problems, _syntax_problem(name, exc)], key=_order)) from None
    kept: Source | None = source
    text, big = source.text, len(source.text) > BIG_FILE
    if big:
        # Settings built while the graph lives would pin its memory (see the module doc).
        blob = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
        del source, found, data
        kept = None
        gc.collect()
        data = pickle.loads(blob)
        del blob
    try:
        config = model.model_validate(data, context={"base_dir": path.absolute().parent})
    except ValidationError as exc:
        if kept is None:
            kept = Source(name, _compose_text(text) or yaml.MappingNode("", []), text)
        problems += located_problems(kept, exc, refused)
    if problems:
        raise ConfigError(sorted(problems, key=_order))
    if big:
        del data
        release_heap()
    return config


def _order(problem: ConfigProblem) -> tuple[int, int, str]:
    return (problem.line or 0, problem.column or 0, problem.path)


def located_problems(source: Source, exc: ValidationError, skip: list[Loc]) -> list[ConfigProblem]:
    """One located problem per pydantic error, except those under a refused secret."""
    found = []
    errors = exc.errors(include_url=False)
    failed = [tuple(e["loc"]) for e in errors]
    for error in errors:
        loc: Loc = tuple(error["loc"])
        if any(loc[: len(s)] == s for s in skip):
            continue
        if error["type"] == "too_short" and any(f[: len(loc)] == loc != f for f in failed):
            # pydantic counts only the valid items: "empty" is a symptom of the item's error.
            continue
        node, key_node, whole = locate(source.root, loc)
        at = key_node if error["type"] == "unknown_key" and whole and key_node else node
        path = format_loc(tuple(p for p in loc if p != "[key]"))
        text = None
        if whole and isinstance(node, yaml.ScalarNode) and node is at:
            text = scalar_text(str(node.value), node.tag == "tag:yaml.org,2002:str")
        message = describe_error(error, show_input=whole, source_text=text)
        found.append(source.problem(at, path, message))
    return found
