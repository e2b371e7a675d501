"""The gateway proves itself to the services, and the services to each other.

A service believes `X-User-Id` and `X-User-Role` (who acts, with which role), so a request that
reaches it past the gateway could claim to be the owner. Each call to a service therefore
carries `X-Studio-Signature: t=<unix seconds>,v1=<hex>`, an HMAC-SHA256 under the platform's
internal secret (`STUDIO_INTERNAL_SECRET`) of the time, the method, the path with its query,
and the user and role it states. A service that checks (`STUDIO_INTERNAL_AUTH`, on in production
and in `make run`) refuses, with 401 in the error shape, a call without one, with another
request's, or older than `TOLERANCE_SECONDS`; only its health, readiness, metrics and
documentation answer anyone. The signature does not cover the body: the services must still be
on a network only the gateway and they reach (a captured request could be replayed within the
tolerance).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Generator

import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.errors import Unauthorized, error_body
from kit.settings import InfraSettings

HEADER = "x-studio-signature"
TOLERANCE_SECONDS = 60
# What anyone may read: probes, metrics and the API's documentation.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})


def sign(secret: str, *, method: str, target: str, user: str, role: str, at: int) -> str:
    """The header's value for one request (`target`: the path and query as sent)."""
    message = "\n".join((str(at), method.upper(), target, user, role)).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(
    secret: str, value: str, *, method: str, target: str, user: str, role: str, now: float
) -> str | None:
    """None when `value` signs this request and is fresh; else why not."""
    fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    try:
        at = int(fields.get("t", ""))
    except ValueError:
        return "the signature has no time"
    if abs(now - at) > TOLERANCE_SECONDS:
        return "the signature is too old (or from the future)"
    expected = sign(secret, method=method, target=target, user=user, role=role, at=at)
    if not hmac.compare_digest(expected.encode(), value.encode()):
        return "the signature does not match this request"
    return None


class InternalAuth(httpx.Auth):
    """Signs every request of an httpx client (the gateway's, a service's calls to a peer)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[HEADER] = sign(
            self._secret,
            method=request.method,
            target=request.url.raw_path.decode("latin-1"),
            user=request.headers.get("x-user-id", ""),
            role=request.headers.get("x-user-role", ""),
            at=int(time.time()),
        )
        yield request


def internal_auth(infra: InfraSettings) -> InternalAuth | None:
    """The signer of this platform's calls to its services (None without a secret)."""
    secret = infra.internal_secret_value
    return InternalAuth(secret) if secret else None


def peer_client(base_url: str, caller: dict[str, str], infra: InfraSettings) -> httpx.AsyncClient:
    """A service's client to a peer: states `caller` (its `X-User-*`) and signs every call."""
    return httpx.AsyncClient(
        base_url=base_url, headers=caller, timeout=30.0, auth=internal_auth(infra)
    )


class InternalAuthMiddleware:
    """Refuses calls that do not carry a valid signature (see the module's text)."""

    def __init__(self, app: ASGIApp, *, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        target = (raw_path + (b"?" + query if query else b"")).decode("latin-1")
        value = headers.get(HEADER)
        problem = (
            "the request carries no internal signature"
            if value is None
            else verify(
                self.secret,
                value,
                method=scope["method"],
                target=target,
                user=headers.get("x-user-id", ""),
                role=headers.get("x-user-role", ""),
                now=time.time(),
            )
        )
        if problem is None:
            await self.app(scope, receive, send)
            return
        refusal = Unauthorized(
            f"This service answers the platform's gateway and its peers only: {problem}.",
            detail={"header": "X-Studio-Signature"},
        )
        response = JSONResponse(
            error_body(refusal.code, refusal.message, refusal.detail),
            status_code=refusal.status_code,
        )
        await response(scope, receive, send)
