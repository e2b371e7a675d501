"""The unsubscribe page a client reaches from any email (public, through the gateway's
`/u/<token>`). Opening it changes nothing (mail scanners open links); the button, or a mail
program's one-click POST (RFC 8058), withdraws marketing consent. Transactional messages
(confirmations, reminders, receipts) still go."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from kit.events.contracts.notify import ClientUnsubscribed
from kit.events.envelope import Envelope
from kit.pages import page_headers
from kit.query_params import FreeQuery
from notify.bootstrap import NotifyServices, ServicesDep
from notify.contacts.repository import CONTACTS
from notify.messages.unsubscribe import client_of
from notify.schedule.dispatcher import SOURCE

# A mail program may add its own parameters to the link.
router = APIRouter(tags=["public"], dependencies=[FreeQuery])
Token = Annotated[str, Path(min_length=10, max_length=400)]

_STYLE = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"


def _page(studio: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<meta name=robots content=noindex><title>{escape(title)} - {escape(studio)}</title>"
        f"<style>{_STYLE}</style></head><body><header><strong>{escape(studio)}</strong>"
        f"</header><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    headers = {**page_headers(html, scripts=False), "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status, headers=headers)


def _client(services: NotifyServices, token: str) -> str | None:
    secret = services.settings.unsubscribe_secret
    return client_of(secret.get_secret_value().encode(), token) if secret else None


def _unknown(studio: str) -> HTMLResponse:
    return _page(
        studio,
        "This link does not work",
        "<p>The unsubscribe link is not valid. Write to the studio and we will take you off "
        "the list.</p>",
        status=404,
    )


@router.get("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe_page(token: Token, services: ServicesDep) -> HTMLResponse:
    studio = services.settings.studio_name
    if _client(services, token) is None:
        return _unknown(studio)
    body = (
        f"<p>No more news and offers from {escape(studio)} by email or SMS. Messages about "
        "your own sessions and orders still reach you.</p>"
        f'<form method=post action="/u/{escape(token)}"><button>Unsubscribe</button></form>'
    )
    return _page(studio, "Unsubscribe", body)


@router.post("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe(token: Token, services: ServicesDep) -> HTMLResponse:
    """Withdraw the client's marketing consent (once: a second use changes nothing)."""
    studio = services.settings.studio_name
    client_id = _client(services, token)
    if client_id is None:
        return _unknown(studio)
    now = datetime.now(UTC)
    event = Envelope.wrap(
        ClientUnsubscribed(client_id=client_id, unsubscribed_at=now),
        subject=client_id,
        source=SOURCE,
    )
    if await services.contacts.unsubscribe(client_id, now, event):
        services.events_written(CONTACTS, client_id)
    return _page(
        studio,
        "You are unsubscribed",
        f"<p>{escape(studio)} will send you no more news or offers. Messages about your own "
        "sessions and orders still reach you.</p>",
    )
