"""Render: render profiles, status-fired render jobs, render runs with their outputs, previews."""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import render as contracts
from render.config import RenderSettings
from render.jobs import repository as jobs_repository
from render.jobs.router import router as jobs_router
from render.previews import repository as previews_repository
from render.profiles import repository as profiles_repository
from render.profiles.router import router as profiles_router
from render.runs import repository as runs_repository
from render.runs.router import router as runs_router


def service_spec(settings: RenderSettings) -> ServiceSpec:
    return ServiceSpec(
        title="Render",
        description=__doc__ or "",
        routers=[profiles_router, jobs_router, runs_router],
        indexes=[*profiles_repository.INDEXES, *jobs_repository.INDEXES, *runs_repository.INDEXES],
        outbox_collections=[previews_repository.COLLECTION, runs_repository.RUNS],
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket],
    )


def create_app(settings: RenderSettings | None = None) -> FastAPI:
    settings = settings or RenderSettings()
    return create_service_app(settings, service_spec(settings))


def run() -> None:
    settings = RenderSettings()
    serve(create_app(settings), settings)
