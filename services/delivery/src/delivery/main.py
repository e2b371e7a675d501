"""Delivery: packaged electronic deliveries in S3, expiring links with PINs, download tracking."""

from __future__ import annotations

from fastapi import FastAPI

from delivery.config import DeliverySettings
from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import delivery as contracts


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    settings = settings or DeliverySettings()
    spec = ServiceSpec(
        title="Delivery",
        description=__doc__ or "",
        topics=[contracts.TOPIC],
        buckets=[settings.infra.images_bucket, settings.infra.deliveries_bucket],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = DeliverySettings()
    serve(create_app(settings), settings)
