"""The front door: `/api/<service>/...` for the studio's people, and the public routes.

Public routes need no login: online booking (`/public/...`), the Stripe webhook (booking checks
its signature), and the delivery pages and downloads of the studio's clients (`/d/<token>...`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import StreamingResponse

from gateway.access.policy import authorize
from gateway.context import ContextDep, PrincipalDep, address_of
from gateway.proxy.paths import forwarded_path

router = APIRouter()

METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
Token = Annotated[str, Path(min_length=1, max_length=200)]


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def to_service(
    service: str, path: str, request: Request, context: ContextDep, principal: PrincipalDep
) -> StreamingResponse:
    """Any route of a service, for a role the policy table allows; the prefix is stripped."""
    decoded, raw = forwarded_path(request, drop_segments=2)
    if context.forwarder.knows(service):
        authorize(principal.role, service, decoded, request.method)
    return await context.forwarder.forward(
        request, service, raw, user=(principal.user_id, principal.role.value)
    )


@router.api_route("/public/{path:path}", methods=METHODS, include_in_schema=False)
async def online_booking(path: str, request: Request, context: ContextDep) -> StreamingResponse:
    """The booking service's public pages and online booking, limited per address."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await context.limiter.hit(context.booking_limit, "address", address_of(request))
    return await context.forwarder.forward(request, "booking", forwarded_path(request)[1])


@router.post("/payments/stripe/webhook", include_in_schema=False)
async def stripe_webhook(request: Request, context: ContextDep) -> StreamingResponse:
    """Stripe's events, passed byte for byte to booking, which verifies the signature."""
    return await context.forwarder.forward(request, "booking", b"/payments/stripe/webhook")


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
