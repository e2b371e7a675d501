"""The studio's routes: create and read deliveries, issue, revoke and renew links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from delivery.context import ContextDep
from delivery.deliveries import service
from delivery.deliveries.schemas import DeliveryOut, DeliveryRequest
from delivery.links import service as links
from delivery.links.schemas import DownloadOut, IssuedLink, LinkOut, LinkRequest, RenewRequest
from kit.mongo import Document

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


async def load_delivery(ctx: ContextDep, delivery_id: str) -> Document:
    return await service.get_delivery(ctx, delivery_id)


DeliveryDep = Annotated[Document, Depends(load_delivery)]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryOut)
async def create_delivery(ctx: ContextDep, request: DeliveryRequest) -> DeliveryOut:
    """Deliver a set of a session's images. Packaging runs in the background: the delivery is
    `pending`, then `ready` (links issued, `delivery.delivery.ready.v1` per link) or `failed`."""
    return await service.request_delivery(ctx, request)


@router.get("", response_model=list[DeliveryOut])
async def list_deliveries(
    ctx: ContextDep,
    session_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """Deliveries, newest first, optionally of one session."""
    return await service.list_deliveries(ctx, session_id, limit)


@router.get("/{delivery_id}", response_model=DeliveryOut)
async def read_delivery(ctx: ContextDep, delivery: DeliveryDep) -> DeliveryOut:
    """One delivery with its files, archives and links (link URLs are never shown again)."""
    return await service.describe(ctx, delivery)


@router.post("/{delivery_id}/links", status_code=status.HTTP_201_CREATED, response_model=IssuedLink)
async def issue_link(ctx: ContextDep, delivery: DeliveryDep, request: LinkRequest) -> IssuedLink:
    """Another recipient link (a guest) to a ready delivery; its URL is in this answer only."""
    return await links.issue_link(ctx, delivery, request)


@router.post("/{delivery_id}/links/{link_id}/revoke", response_model=LinkOut)
async def revoke_link(ctx: ContextDep, delivery: DeliveryDep, link_id: str) -> LinkOut:
    """Withdraw a link now: it answers 410 from then on."""
    return await links.revoke_link(ctx, delivery["_id"], link_id)


@router.post("/{delivery_id}/links/{link_id}/renew", response_model=LinkOut)
async def renew_link(
    ctx: ContextDep, delivery: DeliveryDep, link_id: str, request: RenewRequest
) -> LinkOut:
    """Extend a link's life from now, by `days` or `hours` (an expired link works again)."""
    return await links.renew_link(ctx, delivery["_id"], link_id, request)


@router.get("/{delivery_id}/downloads", response_model=list[DownloadOut])
async def list_downloads(
    ctx: ContextDep,
    delivery: DeliveryDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DownloadOut]:
    """The download log, newest first."""
    return await links.downloads_of(ctx, delivery["_id"], limit)
