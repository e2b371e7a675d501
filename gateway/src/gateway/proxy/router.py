"""The front door: `/api/<service>/...` for the studio's people, and the public routes.

Public routes need no login: online booking (`/public/...`), the Stripe webhook (booking checks
its signature), the delivery pages and downloads of the studio's clients (`/d/<token>...`), the
unsubscribe page of their emails (`/u/<token>`), and the libraries a map page loads
(`/maps/assets/...`: Leaflet and its plugins, the same for everyone), which a sandboxed map
frame fetches without the studio's cookie or token.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import StreamingResponse

from gateway.access.policy import authorize
from gateway.context import ContextDep, PrincipalDep, address_of
from gateway.proxy.paths import forwarded_path
from kit.errors import PayloadTooLarge
from kit.limits import UPLOADS, body_limit
from kit.query_params import FreeQuery

# Every route here forwards its query string as it came: the service behind it checks it.
router = APIRouter(dependencies=[FreeQuery])

METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
Token = Annotated[str, Path(min_length=1, max_length=200)]


# Bodies to a service stream through up to the upload limit (`GATEWAY_MAX_UPLOAD_BYTES`): each
# route's own limit is the service's to apply, and its 413 comes back as it said it.
@router.api_route(
    "/api/{service}/{path:path}",
    methods=METHODS,
    include_in_schema=False,
    openapi_extra=body_limit(UPLOADS),
)
async def to_service(
    service: str, path: str, request: Request, context: ContextDep, principal: PrincipalDep
) -> StreamingResponse:
    """Any route of a service, for a role the policy table allows; the prefix is stripped."""
    decoded, raw = forwarded_path(request, drop_segments=2)
    if context.forwarder.knows(service):
        authorize(principal.role, service, decoded, request.method)
    return await context.forwarder.forward(
        request,
        service,
        raw,
        user=(principal.user_id, principal.role.value),
        public_prefix=f"/api/{service}",
    )


WEBHOOK = b"/public/payments/stripe-webhook"
# An online booking is a small JSON document: read whole, to count attempts per client email.
BOOKING_BODY_LIMIT = 64 * 1024


@router.post("/public/payments/stripe-webhook", include_in_schema=False)
@router.post("/payments/stripe/webhook", include_in_schema=False)
async def stripe_webhook(request: Request, context: ContextDep) -> StreamingResponse:
    """Stripe's events, passed byte for byte to booking, which verifies the signature; never
    rate-limited (Stripe sends from few addresses, and retries would only delay payments)."""
    return await context.forwarder.forward(request, "booking", WEBHOOK)


# A lab's event about an order is a small JSON document.
LAB_EVENT_LIMIT = 64 * 1024
VendorId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,100}$")]


@router.post(
    "/lab/{vendor_id}/events", include_in_schema=False, openapi_extra=body_limit(LAB_EVENT_LIMIT)
)
async def lab_event(
    vendor_id: VendorId, request: Request, context: ContextDep
) -> StreamingResponse:
    """A lab's signed event about a production order (shipped, delivered...), byte for byte to
    workflow, which verifies its signature with the lab's callback secret."""
    path = f"/workflow/lab-events/{vendor_id}".encode()
    return await context.forwarder.forward(request, "workflow", path)


@router.post(
    "/public/bookings", include_in_schema=False, openapi_extra=body_limit(BOOKING_BODY_LIMIT)
)
async def book_online(request: Request, context: ContextDep) -> StreamingResponse:
    """An online booking, limited per address and per client email."""
    await context.limiter.hit(context.booking_limit, "address", address_of(request))
    body = await _small_body(request)
    email = _client_email(body)
    if email is not None:
        await context.limiter.hit(context.booking_account_limit, "account", email)
    return await context.forwarder.forward(request, "booking", b"/public/bookings", body=body)


@router.api_route("/public/{path:path}", methods=METHODS, include_in_schema=False)
async def online_booking(path: str, request: Request, context: ContextDep) -> StreamingResponse:
    """The booking service's public pages (availability, manage links), limited per address."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await context.limiter.hit(context.booking_limit, "address", address_of(request))
    return await context.forwarder.forward(request, "booking", forwarded_path(request)[1])


async def _small_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BOOKING_BODY_LIMIT:
            raise PayloadTooLarge(
                "An online booking is at most 64 KiB.", detail={"limit": BOOKING_BODY_LIMIT}
            )
    return bytes(body)


def _client_email(body: bytes) -> str | None:
    """The booking client's email, when the body has one; booking itself judges the rest."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    client = document.get("client") if isinstance(document, dict) else None
    email = client.get("email") if isinstance(client, dict) else None
    return email.strip().lower()[:254] if isinstance(email, str) and email.strip() else None


@router.api_route("/maps/assets/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def map_asset(name: str, request: Request, context: ContextDep) -> StreamingResponse:
    """A library of the map pages, from the maps service (which knows only its own files)."""
    return await context.forwarder.forward(request, "maps", forwarded_path(request)[1])


@router.api_route("/u/{token}", methods=["GET", "HEAD", "POST"], include_in_schema=False)
async def unsubscribe(token: Token, request: Request, context: ContextDep) -> StreamingResponse:
    """The unsubscribe page of a client's email (notify checks the link's signature); its use
    is limited per address as PIN attempts are."""
    if request.method == "POST":
        await context.limiter.hit(context.pin_limit, "address", address_of(request))
    return await context.forwarder.forward(request, "notify", forwarded_path(request)[1])


@router.post("/d/{token}/pin", include_in_schema=False)
async def delivery_pin(token: Token, request: Request, context: ContextDep) -> StreamingResponse:
    """A PIN attempt on a delivery link, limited per address and per link."""
    await context.limiter.hit(context.pin_limit, "address", address_of(request))
    await context.limiter.hit(context.pin_link_limit, "link", token)
    return await context.forwarder.forward(request, "delivery", forwarded_path(request)[1])


@router.api_route("/d/{token}", methods=["GET", "HEAD"], include_in_schema=False)
async def delivery_page(token: Token, request: Request, context: ContextDep) -> StreamingResponse:
    """The delivery page of a client's link."""
    return await context.forwarder.forward(request, "delivery", forwarded_path(request)[1])


@router.api_route("/d/{token}/{path:path}", methods=METHODS, include_in_schema=False)
async def delivery_files(
    token: Token, path: str, request: Request, context: ContextDep
) -> StreamingResponse:
    """Downloads of a client's link."""
    return await context.forwarder.forward(request, "delivery", forwarded_path(request)[1])
