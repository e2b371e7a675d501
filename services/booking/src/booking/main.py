"""Booking: clients, session types, resources and time slots, sessions, online booking and Stripe
payments.
"""

from __future__ import annotations

from fastapi import FastAPI
from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import booking as contracts

from booking.config import BookingSettings


def create_app(settings: BookingSettings | None = None) -> FastAPI:
    settings = settings or BookingSettings()
    spec = ServiceSpec(
        title="Booking",
        description=__doc__ or "",
        topics=[contracts.TOPIC],
        buckets=[],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = BookingSettings()
    serve(create_app(settings), settings)
