"""Render: render profiles, status-fired render jobs, render runs with their outputs, previews."""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import render as contracts
from render.config import RenderSettings


def create_app(settings: RenderSettings | None = None) -> FastAPI:
    settings = settings or RenderSettings()
    spec = ServiceSpec(
        title="Render",
        description=__doc__ or "",
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = RenderSettings()
    serve(create_app(settings), settings)
