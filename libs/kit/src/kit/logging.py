"""Structured (JSON line) logging with a request id that travels through HTTP and events.

The request id lives in a context variable: the HTTP middleware sets it from `X-Request-ID`
(or makes one), the event envelope carries it as the `requestid` extension attribute, and the
consumer runner sets it again while it handles that event.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_STATE_KEY = "request_id"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(value: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(scope: Scope) -> str | None:
    """The id `RequestIdMiddleware` gave this request; kept in the scope as well, since a bug's
    500 is answered outside the middleware, after its context variable is reset."""
    value = (scope.get("state") or {}).get(_STATE_KEY)
    return value if isinstance(value, str) else None


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id() or getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key in ("event_id", "event_type", "topic"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON line per record on stderr; idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every reconnect attempt at ERROR; readiness reports those states instead.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the request (or makes one) and returns it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.lower().encode())
        request_id = _sanitize(incoming.decode("latin-1")) if incoming else None
        request_id = request_id or new_request_id()
        scope.setdefault("state", {})[_STATE_KEY] = request_id
        token = bind_request_id(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


def _sanitize(value: str) -> str | None:
    # A caller-chosen id goes into logs and headers: keep it short and printable.
    value = value.strip()[:128]
    return value if value and all(c.isalnum() or c in "-_.:" for c in value) else None
