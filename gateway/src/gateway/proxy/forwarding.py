"""Streaming forwarding of one request to one service, and of its answer back.

Neither body is ever held whole: the request body is read from the client as the service reads
it, and the service's answer is relayed chunk by chunk as it arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from gateway.proxy.redirects import LOCATION_HEADERS, PublicLocations
from kit.errors import BadGateway, BadRequest, GatewayTimeout, NotFound, UriTooLong
from kit.logging import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)

IDEMPOTENT_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Hop-by-hop headers (RFC 9110 7.6.1) and what the gateway states itself.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "authorization",
        "x-user-id",
        "x-user-role",
        REQUEST_ID_HEADER.lower(),
        # Who the caller is and how it came are the gateway's to say (see `_forwarded_for`).
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
    }
)
_NOT_RETURNED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        REQUEST_ID_HEADER.lower(),
    }
)
_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})
_RETRY_PAUSE_SECONDS = 0.1
# The path and query string a service is sent, at most: below httpx's 64 KiB for a whole URL,
# leaving room for the service's base address.
MAX_TARGET_BYTES = 60 * 1024


class Forwarder:
    """Sends requests to the services by name; one per gateway process."""

    def __init__(self, client: httpx.AsyncClient, upstreams: dict[str, str], read_retries: int):
        self.client = client
        self._upstreams = upstreams
        self._read_retries = read_retries
        self._locations = PublicLocations(upstreams)

    def knows(self, service: str) -> bool:
        return service in self._upstreams

    async def forward(
        self,
        request: Request,
        service: str,
        raw_path: bytes,
        user: tuple[str, str] | None = None,
        body: bytes | None = None,
        public_prefix: str = "",
    ) -> StreamingResponse:
        """Send `request` to `service` at `raw_path` (as encoded by the caller, query kept);
        `user` is (id, role) for the service to see; `body` when the gateway has read it;
        `public_prefix` is what the caller's path has before the service's (`/api/<service>`),
        to tell the service's redirects in public paths."""
        base = self._upstreams.get(service)
        if base is None:
            raise NotFound(f"There is no service named {service!r}.")
        method = request.method.upper()
        idempotent = method in IDEMPOTENT_READS
        # A read is sent without a body, so it is sent without the headers of one too.
        dropped = _NOT_FORWARDED | _BODY_HEADERS if idempotent else _NOT_FORWARDED
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.decode("latin-1").lower() not in dropped
        ]
        headers += _forwarded_for(request)
        request_id = current_request_id()
        if request_id:
            headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
        if user is not None:
            headers.append((b"x-user-id", user[0].encode()))
            headers.append((b"x-user-role", user[1].encode()))
        url = _target_url(httpx.URL(base), raw_path, request.scope.get("query_string") or b"")
        attempts = 1 + (self._read_retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            outgoing = self.client.build_request(
                method,
                url,
                headers=headers,
                # A read sends no body, so a retry can resend it; anything else streams once.
                content=None if idempotent else (request.stream() if body is None else body),
            )
            try:
                answer = await self.client.send(outgoing, stream=True)
            except httpx.TimeoutException as exc:
                if attempt < attempts and isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    await asyncio.sleep(_RETRY_PAUSE_SECONDS * attempt)
                    continue
                if isinstance(exc, httpx.ConnectTimeout):
                    raise BadGateway(
                        f"The {service} service cannot be reached.", detail={"service": service}
                    ) from exc
                raise GatewayTimeout(
                    f"The {service} service did not answer in time.", detail={"service": service}
                ) from exc
            except httpx.TransportError as exc:
                if attempt < attempts:
                    await asyncio.sleep(_RETRY_PAUSE_SECONDS * attempt)
                    continue
                log.warning("%s unreachable: %s", service, exc)
                raise BadGateway(
                    f"The {service} service cannot be reached.", detail={"service": service}
                ) from exc
            return self._response_of(answer, service, public_prefix)
        raise AssertionError("unreachable")  # pragma: no cover

    def _response_of(
        self, answer: httpx.Response, service: str, public_prefix: str
    ) -> StreamingResponse:
        """The service's answer, status and body unchanged, streamed as it arrives; only a
        redirect to the service's own address is told as the gateway's public path."""
        response = StreamingResponse(
            _relay(answer, service), status_code=answer.status_code, background=None
        )
        headers = []
        for name, value in answer.headers.raw:
            lowered = name.decode("latin-1").lower()
            if lowered in _NOT_RETURNED:
                continue
            if lowered in LOCATION_HEADERS:
                public = self._locations.rewrite(value.decode("latin-1"), service, public_prefix)
                value = public.encode("latin-1")
            headers.append((name, value))
        response.raw_headers = headers
        response.background = BackgroundTask(answer.aclose)
        return response


def _target_url(base_url: httpx.URL, raw_path: bytes, query: bytes) -> httpx.URL:
    """The service's URL for the caller's path and query: 414 when they are too long, 400 when
    they hold what no URL may (control characters, raw bytes past ASCII)."""
    target = raw_path + (b"?" + query if query else b"")
    if len(target) > MAX_TARGET_BYTES:
        raise UriTooLong(
            "The path and query string are too long.",
            detail={"limit_bytes": MAX_TARGET_BYTES, "bytes": len(target)},
        )
    try:
        return base_url.copy_with(raw_path=base_url.raw_path.rstrip(b"/") + target)
    except (httpx.InvalidURL, UnicodeDecodeError) as exc:
        raise BadRequest(
            "The path or query string holds characters a URL may not.",
            detail={"reason": str(exc)[:200]},
        ) from exc


def _forwarded_for(request: Request) -> list[tuple[bytes, bytes]]:
    """The caller's address and scheme as the gateway sees them (uvicorn took them from
    `X-Forwarded-*` only if the peer is one of `GATEWAY_TRUSTED_PROXIES`): whatever the caller
    wrote in those headers itself never reaches a service."""
    headers = [(b"x-forwarded-proto", request.url.scheme.encode("latin-1"))]
    if request.client is not None:
        headers.append((b"x-forwarded-for", request.client.host.encode("latin-1")))
    return headers


async def _relay(answer: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    except httpx.TransportError as exc:
        # The status is already sent: all that is left is to cut the body short.
        log.warning("%s broke off its answer: %s", service, exc)
        raise
    finally:
        # Also when the caller hangs up mid-body: the connection goes back to the pool.
        await answer.aclose()
