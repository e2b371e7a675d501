"""Workflow: status pipelines for sessions, invoices and production orders; images and their
metadata, groups, ratings and edit recipes; orders, invoices and production orders.
"""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import workflow as contracts
from workflow.config import WorkflowSettings


def create_app(settings: WorkflowSettings | None = None) -> FastAPI:
    settings = settings or WorkflowSettings()
    spec = ServiceSpec(
        title="Workflow",
        description=__doc__ or "",
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = WorkflowSettings()
    serve(create_app(settings), settings)
