"""The simulator's small HTTP toolkit: requests, responses, errors and a path router.

Kept apart from the socket server so route modules can be tested and imported without it.
Every error a route raises is an ``HttpError`` and becomes Polymarket's error shape,
``{"error": "…"}`` with the status the real API uses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autotrader.clock import Clock
from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded
from autotrader.sim.auth import AuthError, SimAuth
from autotrader.sim.faults import FaultInjector

if TYPE_CHECKING:
    from autotrader.sim.world import SimWorld


class HttpError(Exception):
    """An error response: ``status`` and ``{"error": message, **extra}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The response this error is sent as."""
        return Response(self.status, {"error": self.message, **self.extra}, self.headers)


@dataclass(frozen=True)
class Response:
    """A JSON response; ``body`` goes through ``serialize.encode_json``."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def text(self) -> str:
        """The body as text (what L2 signatures cover); HttpError 400 if it is not UTF-8."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "Invalid payload: the body is not UTF-8 text") from None

    def json(self, error: str = "Invalid payload") -> Any:
        """The body parsed as JSON; HttpError 400 ``error`` if it is empty or malformed."""
        text = self.text
        if not text.strip():
            raise HttpError(400, error)
        try:
            return loads_bounded(text, "body", parse_float=str, parse_int=_int_or_str)
        except DataError:
            raise HttpError(400, error) from None

    def param(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter ``name`` (``default`` when absent)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        """Every value of ``name``; comma-separated values are split (Gamma accepts both)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out += [v for v in value.split(",") if v]
        return out

    def header(self, name: str) -> str | None:
        """Header ``name``, case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def _int_or_str(text: str) -> int | str:
    # Token ids are uint256; keep huge integers exact but refuse absurd lengths (CVE-2020-10735).
    return int(text) if len(text) <= 100 else text


Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    """One endpoint: ``method`` + ``pattern`` (``{name}`` segments) → ``handler``.

    ``kind`` groups routes for faults and auth: ``order`` (placing/cancelling), ``world``
    (needs the world lock) or ``plain`` (no world at all).
    """

    method: str
    pattern: str
    handler: Handler
    kind: str = "world"
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = [
            f"(?P<{seg[1:-1]}>[^/]+)" if seg.startswith("{") else re.escape(seg)
            for seg in self.pattern.split("/")
        ]
        object.__setattr__(self, "regex", re.compile("/".join(parts) + r"\Z"))


class Router:
    """Routes by method and path; the first registered match wins."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, kind: str = "world") -> None:
        """Register ``handler`` for ``method pattern``."""
        self._routes.append(Route(method.upper(), pattern, handler, kind))

    def extend(self, routes: list[Route]) -> None:
        """Register several routes."""
        self._routes += routes

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and path parameters; HttpError 404 (unknown path) or 405 (wrong method)."""
        path_known = False
        for route in self._routes:
            m = route.regex.match(path)
            if m is None:
                continue
            path_known = True
            if route.method == method.upper():
                return route, m.groupdict()
        if path_known:
            raise HttpError(405, f"method {method} not allowed on {path}")
        raise HttpError(404, "not found")


@dataclass
class SimContext:
    """What every route may use: the world, the clock, faults, auth and paging."""

    world: SimWorld
    clock: Clock
    faults: FaultInjector
    auth: SimAuth
    page_size: int = 100
    wall: Callable[[], float] = time.time

    @property
    def chain_id(self) -> int:
        """The chain orders are signed for (137 = Polygon)."""
        return self.auth.chain_id

    def now(self) -> float:
        """Simulated epoch seconds."""
        return self.clock.time()

    def l1(self, req: Request) -> str:
        """The address of valid L1 headers; HttpError 401 otherwise."""
        try:
            return self.auth.verify_l1(req.headers, now=self.wall())
        except AuthError as err:
            raise HttpError(err.http_status, err.message) from None

    def l2(self, req: Request) -> tuple[str, str]:
        """(address, api key) of a valid L2-signed request; HttpError 401 otherwise."""
        # Not req.text: a body that is not UTF-8 cannot carry a valid HMAC, so it is a 401.
        body = req.body.decode("utf-8", "replace")
        try:
            return self.auth.verify_l2(req.headers, req.method, req.path, body, now=self.wall())
        except AuthError as err:
            raise HttpError(err.http_status, err.message) from None
