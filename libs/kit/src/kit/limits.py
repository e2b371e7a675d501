"""How large a request may be: its query string and its body, refused in the one error shape
before the body is read (a 100 MB JSON body is answered 413 without being held).

Each route's body limit is, in order: its own (`openapi_extra=body_limit(n)`, shown in its
OpenAPI as `x-body-limit-bytes`); the upload limit for a route that takes files; the body limit
for a route that takes JSON or a form; and for a route that reads the request itself (a proxy,
a webhook), the upload limit when the body is multipart or octets, else the body limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import params
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import PayloadTooLarge, StudioError, UriTooLong, error_body

BODY_LIMIT_KEY = "x-body-limit-bytes"
UPLOAD_MEDIA_TYPES = ("multipart/form-data", "application/octet-stream")
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


UPLOADS: Literal["uploads"] = "uploads"


def body_limit(max_bytes: int | Literal["uploads"]) -> dict[str, Any]:
    """`openapi_extra` of a route whose bodies may be larger, or must be smaller, than the
    default its kind of body gets: `@router.post("/imports", openapi_extra=body_limit(...))`;
    `UPLOADS` is the process's upload limit (for a route that reads any body itself, e.g. a
    proxy that leaves each route's own limit to the service behind it)."""
    if max_bytes != UPLOADS and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError("a body limit is a number of bytes, 0 or more, or UPLOADS")
    return {BODY_LIMIT_KEY: max_bytes}


@dataclass(frozen=True)
class RequestLimits:
    """The defaults of one process (its settings' `max_query_bytes`, `max_body_bytes`,
    `max_upload_bytes`)."""

    max_query_bytes: int = 60 * KIB
    max_body_bytes: int = 1 * MIB
    max_upload_bytes: int = 4 * GIB


def describe_size(size: int) -> str:
    """1048576 -> "1 MiB"; a size for a person, exact when it is a whole unit."""
    for unit, factor in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if size % factor == 0 else f"{value:.1f} {unit}"
    return f"{size} bytes"


class RequestLimitMiddleware:
    """Refuses a query string over the limit with 414 and a body over its route's limit with
    413: at the first read when `Content-Length` says so, else as soon as the bytes received
    pass it (the app then sees the client gone, and its answer is replaced by the 413)."""

    def __init__(self, app: ASGIApp, *, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits
        self._own_limits: dict[int, int | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string") or b""
        if len(query) > self.limits.max_query_bytes:
            limit = self.limits.max_query_bytes
            error: StudioError = UriTooLong(
                f"The query string is too long: at most {describe_size(limit)}.",
                detail={"limit_bytes": limit, "bytes": len(query)},
            )
            await _answer(error, scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        if declared is None and "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)  # no body
            return
        await self._counted(scope, receive, send, declared, headers.get("content-type", ""))

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, declared: int | None, media: str
    ) -> None:
        # The route is known once the router has run, which is before anything reads the body:
        # the limit is settled at the first read, and a declared length over it is refused then,
        # with no byte of the body taken off the socket.
        limit: int | None = None
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal limit, received, exceeded
            if limit is None:
                limit = self.limit_for(scope.get("route"), media)
                exceeded = declared is not None and declared > limit
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a "client gone" gives way to the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            assert limit is not None
            await _answer(_too_large(limit, declared), scope, receive, send)

    def limit_for(self, route: object, content_type: str) -> int:
        """The body limit of `route` (the scope's, once routed; None before or for no route)
        for a body of `content_type`."""
        if isinstance(route, BaseRoute):
            own = self._own_limit(route)
            if own is not None:
                return own
            if isinstance(route, APIRoute) and route.body_field is not None:
                takes_files = isinstance(route.body_field.field_info, params.File)
                return self.limits.max_upload_bytes if takes_files else self.limits.max_body_bytes
        uploads = content_type.split(";")[0].strip().lower() in UPLOAD_MEDIA_TYPES
        return self.limits.max_upload_bytes if uploads else self.limits.max_body_bytes

    def _own_limit(self, route: BaseRoute) -> int | None:
        key = id(route)
        if key not in self._own_limits:
            extra = getattr(route, "openapi_extra", None) or {}
            value = extra.get(BODY_LIMIT_KEY)
            if value == UPLOADS:
                value = self.limits.max_upload_bytes
            self._own_limits[key] = value if isinstance(value, int) else None
        return self._own_limits[key]


def _too_large(limit: int, declared: int | None) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body is too large: this route takes at most {describe_size(limit)}.",
        detail={"limit_bytes": limit, "bytes": declared},
    )


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


async def _answer(error: StudioError, scope: Scope, receive: Receive, send: Send) -> None:
    # No "Connection: close": uvicorn then discards what the client still sends of the body
    # (unread, never buffered) until it ends or the keep-alive timeout, instead of closing at
    # once, which would reset the connection and lose this answer to a client still sending.
    response = JSONResponse(
        error_body(error.code, error.message, error.detail),
        status_code=error.status_code,
        headers=error.headers,
    )
    await response(scope, receive, send)
