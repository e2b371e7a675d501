"""Notify: the studio's automatic emails, SMS, calls and tasks. Trigger rules on statuses and
dates, a durable schedule of what is due, each message sent once and recorded, staff tasks and
call records, unsubscribe links. It reads clients, sessions, invoices and deliveries only from
other services' events.
"""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from kit.events.contracts.notify import TOPIC
from notify import bootstrap
from notify.config import NotifySettings
from notify.contacts import repository as contacts
from notify.messages.public import router as public_router
from notify.rules import repository as rules
from notify.rules.router import router as rules_router
from notify.schedule import repository as actions
from notify.schedule.router import router as actions_router
from notify.tasks import repository as tasks
from notify.tasks.router import router as tasks_router

INDEXES = (*contacts.INDEXES, *rules.INDEXES, *actions.INDEXES, *tasks.INDEXES)


def service_spec(*, api: bool = True) -> ServiceSpec:
    """The API process serves the rules, the log, tasks and the unsubscribe page; the consumer
    process keeps the projection, plans the rules and runs the dispatcher."""
    return ServiceSpec(
        title="Notify",
        description=__doc__ or "",
        routers=[rules_router, actions_router, tasks_router, public_router] if api else [],
        indexes=INDEXES,
        outbox_collections=bootstrap.OUTBOX_COLLECTIONS,
        topics=[TOPIC],
        on_start=[bootstrap.wire] if api else [bootstrap.wire, bootstrap.start_dispatcher],
        on_stop=[bootstrap.stop],
    )


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    return create_service_app(settings or NotifySettings(), service_spec())


def run() -> None:
    settings = NotifySettings()
    serve(create_app(settings), settings)
