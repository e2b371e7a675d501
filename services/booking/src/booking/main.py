"""Booking: clients, session types, resources and time slots, sessions, online booking and
Stripe payments."""

from __future__ import annotations

from fastapi import FastAPI

from booking.cancellations import feature as cancellations
from booking.clients import feature as clients
from booking.config import BookingSettings
from booking.features import Feature
from booking.online import feature as online
from booking.payments import feature as payments
from booking.scheduling import feature as scheduling
from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts import booking as contracts

# Cancellations after payments: its sweeper uses the Stripe client payments opens at start.
FEATURES: tuple[Feature, ...] = (clients, scheduling, online, payments, cancellations)


def service_spec() -> ServiceSpec:
    return ServiceSpec(
        title="Booking",
        description=__doc__ or "",
        routers=[r for f in FEATURES for r in f.routers],
        indexes=[i for f in FEATURES for i in f.indexes],
        outbox_collections=sorted({c for f in FEATURES for c in f.outbox_collections}),
        topics=[contracts.TOPIC],
        on_start=[h for f in FEATURES for h in f.on_start],
        # Stopped in reverse: a feature's background work ends before what it uses closes.
        on_stop=[h for f in reversed(FEATURES) for h in f.on_stop],
    )


def create_app(settings: BookingSettings | None = None) -> FastAPI:
    return create_service_app(settings or BookingSettings(), service_spec())


def run() -> None:
    settings = BookingSettings()
    serve(create_app(settings), settings)
