"""Render: render profiles, status-fired render jobs, render runs with their outputs, previews."""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI

from kit.app import Platform, ServiceSpec, create_service_app, serve
from kit.events.contracts import render as contracts
from kit.events.kafka import ensure_topics
from render.config import RenderSettings
from render.jobs import repository as jobs_repository
from render.jobs.router import router as jobs_router
from render.previews import repository as previews_repository
from render.profiles import repository as profiles_repository
from render.profiles.router import router as profiles_router
from render.runs import repository as runs_repository
from render.runs.render_sets import HTTP_KEY
from render.runs.router import router as runs_router


async def ensure_task_topic(platform: Platform) -> None:
    """`render.tasks` with the partitions the workers share (kit's default of 3 is too few)."""
    settings = platform.settings
    assert isinstance(settings, RenderSettings)
    await ensure_topics(
        settings.infra.kafka_bootstrap,
        [contracts.TASKS_TOPIC],
        partitions=settings.task_partitions,
        prefix=settings.infra.topic_prefix,
    )


async def close_workflow_client(platform: Platform) -> None:
    client = platform.extras.pop(HTTP_KEY, None)
    if client is not None:
        await client.aclose()


def background_spec(settings: RenderSettings) -> ServiceSpec:
    """The spec of the consumers and worker processes: no routes, but the task topic."""
    return dataclasses.replace(
        service_spec(settings).background_only(),
        on_start=(ensure_task_topic,),
        on_stop=(close_workflow_client,),
    )


def service_spec(settings: RenderSettings) -> ServiceSpec:
    return ServiceSpec(
        title="Render",
        description=__doc__ or "",
        routers=[profiles_router, jobs_router, runs_router],
        indexes=[*profiles_repository.INDEXES, *jobs_repository.INDEXES, *runs_repository.INDEXES],
        outbox_collections=[previews_repository.COLLECTION, runs_repository.RUNS],
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket],
        on_start=[ensure_task_topic],
        on_stop=[close_workflow_client],
    )


def create_app(settings: RenderSettings | None = None) -> FastAPI:
    settings = settings or RenderSettings()
    return create_service_app(settings, service_spec(settings))


def run() -> None:
    settings = RenderSettings()
    serve(create_app(settings), settings)
