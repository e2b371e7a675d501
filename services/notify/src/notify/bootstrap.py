"""Wiring: the real pieces of the notify service, built once per process from the platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from kit.app import Platform, PlatformDep
from kit.internal_auth import peer_client
from notify.config import NotifySettings
from notify.contacts.handlers import EventHandlers
from notify.contacts.repository import CONTACTS, ContactBook
from notify.messages.compose import Composer
from notify.messages.documents import CALLER, InvoiceDocuments
from notify.messages.mail import Mailer
from notify.messages.sms import SmsProvider, sms_provider
from notify.rules.preview import RulePreview
from notify.rules.repository import RuleRepository
from notify.rules.service import RuleService
from notify.schedule.dispatcher import Dispatcher
from notify.schedule.planner import Planner
from notify.schedule.repository import ACTIONS, ActionRepository
from notify.tasks.repository import TaskRepository
from notify.tasks.service import TaskService

_EXTRA = "notify"


@dataclass(frozen=True)
class NotifyServices:
    settings: NotifySettings
    contacts: ContactBook
    rules: RuleService
    rule_repository: RuleRepository
    actions: ActionRepository
    planner: Planner
    preview: RulePreview
    tasks: TaskService
    dispatcher: Dispatcher
    handlers: EventHandlers
    sms: SmsProvider | None
    documents: InvoiceDocuments
    # Tells this process's outbox relay which document got events.
    events_written: Callable[[str, str], None]


def build(platform: Platform) -> NotifyServices:
    settings = platform.settings
    assert isinstance(settings, NotifySettings)
    db = platform.db
    relay = platform.relay
    contacts = ContactBook(db)
    rule_repository = RuleRepository(db)
    actions = ActionRepository(db)
    task_repository = TaskRepository(db)
    mailer = Mailer(settings) if settings.smtp_host else None
    sms = sms_provider(settings)
    documents = InvoiceDocuments(peer_client(settings.workflow_url, CALLER, settings.infra))
    composer = Composer(settings, contacts, can_email=mailer is not None, can_sms=sms is not None)

    def events_written(collection: str, document_id: str) -> None:
        if relay is not None:
            relay.notify(collection, document_id)

    dispatcher = Dispatcher(
        settings,
        actions,
        rule_repository,
        task_repository,
        composer,
        documents,
        mailer=mailer,
        sms=sms,
        events_written=lambda action_id: events_written(ACTIONS, action_id),
    )
    planner = Planner(rule_repository, actions, contacts, settings.zone)
    return NotifyServices(
        settings=settings,
        contacts=contacts,
        rules=RuleService(rule_repository),
        rule_repository=rule_repository,
        actions=actions,
        planner=planner,
        preview=RulePreview(settings, rule_repository, contacts, composer),
        tasks=TaskService(task_repository),
        dispatcher=dispatcher,
        handlers=EventHandlers(contacts, planner, dispatcher.wake),
        sms=sms,
        documents=documents,
        events_written=events_written,
    )


async def wire(platform: Platform) -> None:
    """The `on_start` hook of every notify process: the pieces, and the default rules."""
    services = build(platform)
    platform.extras[_EXTRA] = services
    await services.rules.seed_defaults()


async def start_dispatcher(platform: Platform) -> None:
    services = services_of(platform)
    if services.settings.dispatcher:
        services.dispatcher.start()


async def stop(platform: Platform) -> None:
    services = platform.extras.get(_EXTRA)
    if services is None:
        return
    await services.dispatcher.stop()
    await services.documents.aclose()
    close = getattr(services.sms, "aclose", None)
    if close is not None:
        await close()


def services_of(platform: Platform) -> NotifyServices:
    services: NotifyServices = platform.extras[_EXTRA]
    return services


def get_services(platform: PlatformDep) -> NotifyServices:
    return services_of(platform)


def get_user(x_user_id: Annotated[str | None, Header(max_length=200)] = None) -> str:
    """Who makes the request, as the gateway states it."""
    return x_user_id or "anonymous"


ServicesDep = Annotated[NotifyServices, Depends(get_services)]
UserDep = Annotated[str, Depends(get_user)]
OUTBOX_COLLECTIONS = (ACTIONS, CONTACTS)
