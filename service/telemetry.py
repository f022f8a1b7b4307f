"""Request ids, structured JSON logs and per-request metrics.

Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token, else a new
one. It is returned in the ``X-Request-ID`` response header (on every response, errors
included) and, through a context variable that worker threads inherit, added to every log
line written while the request is served.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from contextvars import ContextVar
from typing import Any

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.errors import FactCheckError, OverloadedError, StoreError
from service.metrics import IN_FLIGHT, REQUEST_SECONDS, REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
CLIENT_CLOSED_REQUEST = 499  # the status metrics and logs give a request its client abandoned
CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Attributes every record has (and uvicorn's ANSI-coloured duplicate of the message).
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
access_log = logging.getLogger("factcheck.access")
error_log = logging.getLogger("factcheck.errors")


def request_id(scope: Scope) -> str:
    """The request's id, taken from ``X-Request-ID`` or generated once and kept in the scope."""
    state = scope.setdefault("state", {})
    rid: str | None = state.get("request_id")
    if rid is None:
        given = Headers.from_scope(scope).get("x-request-id", "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        state["request_id"] = rid
    return rid


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every HTTP response names its request id."""
    if message["type"] == "http.response.start" and scope["type"] == ScopeType.HTTP:
        MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id(scope)


async def log_exception(exc: Exception, scope: Scope) -> None:
    """``after_exception`` hook: bugs with their traceback, store and capacity trouble briefly.

    Client errors (4xx, the ``InvalidInputError`` family) are in the access log only.
    """
    where = f"{scope.get('method', '')} {scope['path']}"
    if isinstance(exc, StoreError | OverloadedError):
        error_log.warning("%s: %s: %s", where, type(exc).__name__, exc)
    elif not isinstance(exc, HTTPException | FactCheckError):
        error_log.error("%s: unhandled %s", where, type(exc).__name__, exc_info=exc)


class RequestContextMiddleware(ASGIMiddleware):
    """Outermost middleware: binds the request id, counts and times the request, logs it.

    Errors raised by the middleware inside it (401, 403, 429) reach the client through the
    app's exception handler outside it, so their status is taken from the exception.
    A client that disconnects before the response is complete is counted with status 499
    (nginx's "client closed request"), apart from the service's own 5xx: an abandoned
    stream, or a body cut off mid-way (which Litestar answers 500 to nobody).
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Serve the request inside its context and record how it went."""
        method = str(scope.get("method", ""))
        token = CURRENT_REQUEST_ID.set(request_id(scope))
        status = 500
        start = time.perf_counter()
        complete = client_gone = False

        async def send_and_note(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        async def receive_and_note() -> ReceiveMessage:
            nonlocal client_gone
            message = await receive()
            if message["type"] == "http.disconnect" and not complete:
                client_gone = True
            return message

        IN_FLIGHT.inc()
        try:
            await next_app(scope, receive_and_note, send_and_note)
        except HTTPException as exc:
            status = exc.status_code
            raise
        finally:
            IN_FLIGHT.dec()
            if client_gone:
                status = CLIENT_CLOSED_REQUEST
            elapsed = time.perf_counter() - start
            labels = (method, scope.get("path_template") or "unmatched", str(status))
            REQUESTS.labels(*labels).inc()
            REQUEST_SECONDS.labels(*labels).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "route": labels[1],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "api_key": scope.get("state", {}).get("api_key"),
                },
            )
            CURRENT_REQUEST_ID.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": CURRENT_REQUEST_ID.get(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class StormFilter(logging.Filter):
    """Lets through at most ``burst`` records of one kind every ``window_s`` seconds.

    A kind is a logger, level and message template: a bug hit by every request, the
    overload warning of every 503, a flood of slow connections closed. The first record of
    a kind let through after some were dropped carries ``suppressed``, their number. The
    access log (one line per request, the audit trail) is never limited.
    """

    def __init__(self, burst: int = 20, window_s: float = 10.0, *, kinds: int = 1_000) -> None:
        super().__init__()
        self.burst, self.window_s, self.kinds = burst, window_s, kinds
        self._windows: dict[tuple[str, int, object], list[float]] = {}  # start, let, dropped
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """True to emit the record."""
        if record.name == access_log.name:
            return True
        key = (record.name, record.levelno, record.msg)
        now = time.monotonic()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window[0] >= self.window_s:
                if len(self._windows) >= self.kinds:  # bounded memory: forget old kinds
                    self._windows.clear()
                dropped = window[2] if window else 0
                self._windows[key] = [now, 1, 0]
                if dropped:
                    record.suppressed = int(dropped)
                return True
            if window[1] < self.burst:
                window[1] += 1
                return True
            window[2] += 1
            return False


def configure_logging(*, as_json: bool, level: int = logging.INFO) -> None:
    """Send every logger (uvicorn's too) to stderr, as JSON lines or plain text.

    Storms of one kind of record are thinned out (:class:`StormFilter`).
    """
    handler = logging.StreamHandler()
    handler.addFilter(StormFilter())
    if as_json:
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
