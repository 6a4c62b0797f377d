"""The Polymarket-compatible simulator: Gamma, CLOB and Data API on one local port.

A stdlib ``ThreadingHTTPServer`` (one thread per request, real sockets). Every request that
touches the world first brings it to the current simulated time (``world.advance()``) under
``world.lock``, so concurrent clients see one consistent book. Faults (``sim.faults``) are
applied before the route runs: an error status, a held response, a connection closed without
an answer, or — for ``lost`` — the route runs and *then* the connection is closed.

Responses copy the real payloads field for field (see tests/fixtures/polymarket); errors are
``{"error": "…"}`` with the real status. Nothing a client sends can crash a request thread:
malformed input is a 400, a bug is a logged 500, never a traceback on the wire.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from autotrader.sim import (
    routes_account,
    routes_clob,
    routes_data,
    routes_gamma,
    routes_inspect,
    routes_trading,
)
from autotrader.sim.auth import AuthError
from autotrader.sim.faults import FaultKind, FaultSpecError, parse_fault_spec
from autotrader.sim.routing import HttpError, Request, Response, Route, Router, SimContext
from autotrader.sim.serialize import encode_json

log = logging.getLogger("autotrader.sim")

MAX_BODY_BYTES = 1_000_000
ENGINE_RESTARTING = "the matching engine is restarting"


@dataclass(frozen=True)
class Reply:
    """What to do with a request: send ``response``, or (None) close without answering."""

    response: Response | None


def _retry_after(secs: float) -> dict[str, str]:
    return {"Retry-After": str(max(0, math.ceil(secs)))}


def _fault_response(kind: FaultKind, ctx: SimContext) -> Response:
    if kind == "429":
        headers = _retry_after(ctx.faults.plan.retry_after_secs)
        return Response(429, {"error": "Too Many Requests"}, headers)
    if kind == "425":
        return Response(425, {"error": ENGINE_RESTARTING})
    return Response(500, {"error": "Internal server error"})


class SimApp:
    """Routing, faults and error handling, independent of the socket server."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.router = Router()
        self.router.extend(control_routes())
        self.router.extend(routes_inspect.routes())  # test-only views, never faulted
        for module in (routes_gamma, routes_clob, routes_trading, routes_account, routes_data):
            self.router.extend(module.routes())

    def handle(self, req: Request) -> Reply:
        """The reply to one request, faults included."""
        faults = self.ctx.faults
        try:
            route, params = self.router.match(req.method, req.path)
        except HttpError as err:
            return Reply(err.response())
        faults.record("requests")
        if route.kind == "control":
            return Reply(self._run(route, params, req))
        if route.kind == "order":
            phase = faults.plan.engine_phase(self.ctx.now())
            if phase is not None and phase[0] == "down":
                faults.record("restart_425")
                return Reply(Response(425, {"error": ENGINE_RESTARTING}))
        fault = faults.draw(order_endpoint=route.kind == "order")
        if fault is not None:
            faults.record(fault)
            log.info("fault %s on %s %s", fault, req.method, req.path)
        if fault in ("425", "429", "500"):
            return Reply(_fault_response(fault, self.ctx))
        if fault == "drop":
            return Reply(None)
        if fault == "slow":
            time.sleep(faults.plan.slow_secs)
        response = self._run(route, params, req)
        # "lost": the work is done (an order is placed) but the answer never arrives.
        return Reply(None if fault == "lost" else response)

    def _run(self, route: Route, params: dict[str, str], req: Request) -> Response:
        try:
            if route.kind in ("control", "plain"):
                result = route.handler(self.ctx, req, **params)
            else:
                world = self.ctx.world
                with world.lock:
                    world.advance()
                    result = route.handler(self.ctx, req, **params)
        except HttpError as err:
            return err.response()
        except AuthError as err:
            return Response(err.http_status, err.body())
        except Exception:
            log.exception("%s %s failed", req.method, req.path)
            return Response(500, {"error": "Internal server error"})
        return result if isinstance(result, Response) else Response(200, result)


def _get_faults(ctx: SimContext, req: Request) -> dict[str, Any]:
    phase = ctx.faults.plan.engine_phase(ctx.now())
    return {
        "spec": ctx.faults.plan.describe(),
        "seed": ctx.faults.seed,
        "engine": None if phase is None else phase[0],
    }


def _set_faults(ctx: SimContext, req: Request) -> dict[str, Any]:
    body = req.json('expected {"spec": "…", "seed": N}')
    if not isinstance(body, dict) or not isinstance(body.get("spec", ""), str):
        raise HttpError(400, 'expected {"spec": "…", "seed": N}')
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise HttpError(400, "seed must be an integer")
    try:
        plan = parse_fault_spec(body.get("spec", ""), now=ctx.now())
    except FaultSpecError as err:
        raise HttpError(400, str(err)) from None
    ctx.faults.set_plan(plan, seed)
    log.info("faults now %s", plan.describe())
    return _get_faults(ctx, req)


def _state(ctx: SimContext, req: Request) -> dict[str, Any]:
    return {
        "time": int(ctx.now()),
        "speed": ctx.clock.speed,
        **_get_faults(ctx, req),
        "counts": ctx.faults.counts(),
    }


def control_routes() -> list[Route]:
    """The simulator's own endpoints (never faulted): /_sim/faults and /_sim/state."""
    return [
        Route("GET", "/_sim/faults", _get_faults, "control"),
        Route("POST", "/_sim/faults", _set_faults, "control"),
        Route("GET", "/_sim/state", _state, "control"),
    ]


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection (keep-alive, as py-clob-client-v2's httpx client uses it)."""

    protocol_version = "HTTP/1.1"
    server_version = "autotrader-sim"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    server: SimHTTPServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        try:
            try:
                req = self._read()
            except HttpError as err:
                self.close_connection = True
                self._send(err.response())
                return
            reply = self.server.app.handle(req)
            if reply.response is None:
                self._drop()
            else:
                self._send(reply.response)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("%s %s failed", self.command, self.path)
            self._send(Response(500, {"error": "Internal server error"}))

    def _read(self) -> Request:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raise HttpError(411, "chunked request bodies are not supported; send Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise HttpError(400, "bad Content-Length") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise HttpError(413, f"request body must be at most {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length) if length else b""
        return Request(
            method=self.command,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k: v for k, v in self.headers.items()},
            body=body,
        )

    def _send(self, resp: Response) -> None:
        try:
            body = encode_json(resp.body)
        except (TypeError, ValueError):
            log.exception("cannot encode the response to %s %s", self.command, self.path)
            resp, body = Response(500, {}), b'{"error":"Internal server error"}'
        self.send_response(resp.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        # No status line, no headers: the client sees the connection closed under it.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, oversized headers) in the JSON error shape."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(Response(code, {"error": message or self.responses.get(code, ("",))[0]}))

    def log_message(self, format: str, *args: Any) -> None:
        """Access log at debug level (the journal gets warnings and up by default)."""
        log.debug("%s %s", self.address_string(), format % args)


class SimHTTPServer(ThreadingHTTPServer):
    """The threading server carrying the app."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the bound socket."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class SimServer:
    """A simulator server run in a background thread (tests, benchmarks, the CLI)."""

    def __init__(self, ctx: SimContext, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = SimApp(ctx)
        self.httpd = SimHTTPServer((host, port), self.app)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL for gamma_url, clob_url and data_url alike."""
        return self.httpd.url

    def start(self) -> SimServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="sim-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
