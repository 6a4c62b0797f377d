"""The exception classes a daemon loop catches, each named after its recovery.

* ``TemporaryError``: the operation may succeed if retried later (network blip, 429, 425,
  a locked database). The caller retries with backoff; nothing is paused.
* ``OperationalError``: something is wrong that retrying will not fix on its own (a venue keeps
  refusing, a limit is breached). The affected strategy or component is paused and the operator
  is notified.
* ``ConfigError``: the configuration is invalid. At start-up the daemon refuses to start; on
  reload the old configuration stays in force.

Anything else is a bug: it is logged and the process exits non-zero so systemd restarts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AutotraderError(Exception):
    """Base class of every error autotrader raises on purpose."""


class TemporaryError(AutotraderError):
    """Retry later with backoff; ``retry_after_secs`` is a hint from the source, if any."""

    def __init__(self, message: str, *, retry_after_secs: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_secs = retry_after_secs


class OperationalError(AutotraderError):
    """Pause what failed and notify the operator; retrying alone will not fix it."""

    def __init__(self, message: str, *, reason_code: str = "OPERATIONAL_ERROR") -> None:
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration file, located as precisely as the source allows."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(AutotraderError):
    """Refuse the configuration; ``problems`` lists every finding, one line each."""

    def __init__(self, problems: Sequence[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [
                ConfigProblem(file="<config>", line=None, column=None, path="", message=problems)
            ]
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class DataError(AutotraderError):
    """A payload or file from outside is malformed; the data is dropped, nothing is changed."""
