"""Workflow: status pipelines for sessions, invoices and production orders; images and their
metadata, groups, ratings and edit recipes; orders, invoices and production orders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from kit.app import Platform, ServiceSpec, create_service_app, serve
from kit.events.contracts import workflow as contracts
from kit.periodic import Periodic
from workflow.archive.repository import DELETIONS
from workflow.archive.repository import INDEXES as ARCHIVE_INDEXES
from workflow.archive.router import router as archive_router
from workflow.cards.repository import INDEXES as CARD_INDEXES
from workflow.cards.router import router as cards_router
from workflow.config import WorkflowSettings
from workflow.context import context_of
from workflow.documents.router import router as documents_router
from workflow.documents.service import INDEXES as DOCUMENT_INDEXES
from workflow.hub.router import router as hub_router
from workflow.images.repository import IMPORTS, REMOVALS
from workflow.images.repository import INDEXES as IMAGE_INDEXES
from workflow.images.router import router as images_router
from workflow.images.service import ImageService
from workflow.invoices.repository import INDEXES as INVOICE_INDEXES
from workflow.invoices.router import router as invoices_router
from workflow.lab.router import answers_router as lab_answers_router
from workflow.lab.router import router as lab_router
from workflow.lab.shipments import INDEXES as SHIPMENT_INDEXES
from workflow.lab.shipments import ShipmentService
from workflow.presentation.repository import INDEXES as PRESENTATION_INDEXES
from workflow.presentation.router import router as presentation_router
from workflow.pricing.repository import INDEXES as PRICING_INDEXES
from workflow.pricing.router import router as pricing_router
from workflow.production.repository import INDEXES as PRODUCTION_INDEXES
from workflow.production.router import router as production_router
from workflow.recipes.repository import INDEXES as RECIPE_INDEXES
from workflow.recipes.router import router as recipes_router
from workflow.render_sets.router import router as render_sets_router
from workflow.sessions.repository import INDEXES as SESSION_INDEXES
from workflow.sessions.router import router as sessions_router
from workflow.statuses.repository import INDEXES as STATUS_INDEXES
from workflow.statuses.router import router as statuses_router
from workflow.statuses.service import StatusService
from workflow.tracking.repository import CHANGES
from workflow.tracking.repository import INDEXES as CHANGE_INDEXES
from workflow.vendors.router import router as vendors_router
from workflow.vendors.service import INDEXES as VENDOR_INDEXES

log = logging.getLogger(__name__)


async def seed_statuses(platform: Platform) -> None:
    await StatusService(platform.db).seed_defaults()


async def _upload_sweeper(platform: Platform) -> None:
    context = context_of(platform)
    while True:
        try:
            await ImageService(context).sweep_staged_uploads()
        except Exception as exc:
            log.warning("staged upload sweep failed (%s); retrying", exc)
        await asyncio.sleep(context.settings.upload_sweep_seconds)


async def start_upload_sweeper(platform: Platform) -> None:
    platform.extras["upload_sweeper"] = asyncio.create_task(
        _upload_sweeper(platform), name="workflow-upload-sweep"
    )


async def start_lab_sender(platform: Platform) -> None:
    """Queued shipments to labs are sent from the API process, one at a time."""
    context = context_of(platform)

    async def send_due() -> None:
        service = ShipmentService(context)
        while await service.send_next() is not None:
            pass

    sender = Periodic("workflow lab sender", send_due, context.settings.lab_poll_seconds)
    sender.start()
    platform.extras["lab_sender"] = sender


async def stop_lab_sender(platform: Platform) -> None:
    sender: Periodic | None = platform.extras.pop("lab_sender", None)
    if sender is not None:
        await sender.stop()


async def stop_upload_sweeper(platform: Platform) -> None:
    task: asyncio.Task[None] | None = platform.extras.pop("upload_sweeper", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def service_spec(settings: WorkflowSettings) -> ServiceSpec:
    return ServiceSpec(
        title="Workflow",
        description=__doc__ or "",
        routers=[
            statuses_router,
            sessions_router,
            hub_router,
            pricing_router,
            invoices_router,
            documents_router,
            production_router,
            archive_router,
            images_router,
            presentation_router,
            recipes_router,
            cards_router,
            render_sets_router,
            vendors_router,
            lab_router,
            lab_answers_router,
        ],
        indexes=[
            *STATUS_INDEXES,
            *SESSION_INDEXES,
            *CHANGE_INDEXES,
            *PRICING_INDEXES,
            *INVOICE_INDEXES,
            *PRODUCTION_INDEXES,
            *ARCHIVE_INDEXES,
            *IMAGE_INDEXES,
            *PRESENTATION_INDEXES,
            *RECIPE_INDEXES,
            *CARD_INDEXES,
            *DOCUMENT_INDEXES,
            *VENDOR_INDEXES,
            *SHIPMENT_INDEXES,
        ],
        outbox_collections=[CHANGES, DELETIONS, IMPORTS, REMOVALS],
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket, settings.archive_bucket],
        on_start=[seed_statuses, start_upload_sweeper, start_lab_sender],
        on_stop=[stop_lab_sender, stop_upload_sweeper],
    )


def create_app(settings: WorkflowSettings | None = None) -> FastAPI:
    settings = settings or WorkflowSettings()
    return create_service_app(settings, service_spec(settings))


def run() -> None:
    settings = WorkflowSettings()
    serve(create_app(settings), settings)
