"""Delivery: packaged electronic deliveries in S3, expiring links with PINs, download tracking."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from delivery.config import DeliverySettings
from delivery.context import close_presigner, context_of, open_presigner
from delivery.deliveries import repository as deliveries_repository
from delivery.deliveries.abandoned_uploads import start_upload_sweeper, stop_upload_sweeper
from delivery.deliveries.rendering import close_render_http
from delivery.deliveries.router import router as deliveries_router
from delivery.deliveries.service import packager_loop
from delivery.deliveries.stalls import stall_sweeper
from delivery.deliveries.workflow_images import close_workflow_http
from delivery.links import repository as links_repository
from delivery.links.service import sweep_expired
from delivery.notifications.outbox import mail_sweeper
from delivery.public.router import router as public_router
from kit.app import Platform, ServiceSpec, create_service_app, serve
from kit.events.contracts import delivery as contracts

log = logging.getLogger(__name__)

OUTBOX_COLLECTIONS = [
    deliveries_repository.COLLECTION,
    links_repository.LINKS,
    links_repository.DOWNLOADS,
]


async def _expiry_sweeper(platform: Platform) -> None:
    ctx = context_of(platform)
    while True:
        try:
            await sweep_expired(ctx)
        except Exception as exc:
            log.warning("expiry sweep failed (%s); retrying", exc)
        await asyncio.sleep(ctx.settings.expiry_sweep_seconds)


async def start_background_work(platform: Platform) -> None:
    settings = platform.settings
    assert isinstance(settings, DeliverySettings)
    if not settings.background_work:
        return
    wake = asyncio.Event()
    platform.extras["packager_wake"] = wake
    ctx = context_of(platform)
    tasks = [
        asyncio.create_task(packager_loop(ctx, wake), name="delivery-packager"),
        asyncio.create_task(_expiry_sweeper(platform), name="delivery-expiry-sweep"),
        asyncio.create_task(stall_sweeper(ctx), name="delivery-rendering-stall-sweep"),
    ]
    if settings.smtp_host is not None:
        tasks.append(asyncio.create_task(mail_sweeper(ctx), name="delivery-mail-sweep"))
    platform.extras["tasks"] = tasks
    await start_upload_sweeper(ctx, platform)


async def stop_background_work(platform: Platform) -> None:
    await stop_upload_sweeper(platform)
    tasks: list[asyncio.Task[None]] = platform.extras.pop("tasks", [])
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_render_http(platform: Platform) -> None:
    await close_render_http(context_of(platform))


async def _close_workflow_http(platform: Platform) -> None:
    await close_workflow_http(context_of(platform))


def service_spec(settings: DeliverySettings) -> ServiceSpec:
    return ServiceSpec(
        title="Delivery",
        description=__doc__ or "",
        routers=[deliveries_router, public_router],
        indexes=[*deliveries_repository.INDEXES, *links_repository.INDEXES],
        outbox_collections=OUTBOX_COLLECTIONS,
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket, settings.infra.deliveries_bucket],
        on_start=[open_presigner, start_background_work],
        on_stop=[stop_background_work, _close_render_http, _close_workflow_http, close_presigner],
    )


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    return create_service_app(settings, service_spec(settings))


def run() -> None:
    settings = DeliverySettings()
    serve(create_app(settings), settings)
