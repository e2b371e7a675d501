"""Link mails driven from stored state, so that none is lost when a process dies.

A link issued while SMTP is configured, to a recipient with an email, is stored with
`mail_pending` and its URL (the only place the token is kept, until the mail is sent). Whoever
sends first claims the link for `mail_lease_seconds` by moving `mail_due_at` forward in one
conditional write, so two processes never both send it; after sending, the URL is forgotten.
A send that fails is retried later with a growing delay; a process that died mid-send leaves a
claim that lapses, and the sweep sends it then. Sending at once after the write that made the
link visible is the normal path; the periodic sweep catches the rest.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery.context import DeliveryContext
from delivery.deliveries.repository import DeliveryRepository
from delivery.links.repository import LinkRepository
from delivery.notifications.mail import link_message, send_message
from kit.mongo import Document

log = logging.getLogger(__name__)


def pending_mail_fields(ctx: DeliveryContext, email: str | None, url: str) -> dict[str, Any]:
    """The fields a new link carries: a mail to send when SMTP is configured and it has an
    email address; nothing to send otherwise."""
    if ctx.settings.smtp_host is None or email is None:
        return {"mail_pending": False, "mail_url": None, "mail_due_at": None}
    return {
        "mail_pending": True,
        "mail_url": url,
        "mail_due_at": datetime.now(UTC),
        "mail_attempts": 0,
        "mail_error": None,
    }


async def send_link_mails(ctx: DeliveryContext, link_ids: list[str]) -> int:
    """Send the pending mails of these links that are due now; how many were sent."""
    sent = 0
    deliveries: dict[str, Document | None] = {}
    for link_id in link_ids:
        if await _send_one(ctx, link_id, deliveries):
            sent += 1
    return sent


async def sweep_link_mails(ctx: DeliveryContext, *, batch: int = 200) -> int:
    """Send every pending mail that is due: never sent, retried, or left by a dead process."""
    due = await LinkRepository(ctx.db).due_mails(datetime.now(UTC), batch)
    return await send_link_mails(ctx, [link["_id"] for link in due])


async def _send_one(
    ctx: DeliveryContext, link_id: str, deliveries: dict[str, Document | None]
) -> bool:
    settings = ctx.settings
    if settings.smtp_host is None:
        return False
    links = LinkRepository(ctx.db)
    now = datetime.now(UTC)
    link = await links.claim_mail(
        link_id, now, now + timedelta(seconds=settings.mail_lease_seconds)
    )
    if link is None:
        return False  # sent, given up, not due, or another process has it
    delivery_id = link["delivery_id"]
    if delivery_id not in deliveries:
        deliveries[delivery_id] = await DeliveryRepository(ctx.db).get(delivery_id)
    delivery = deliveries[delivery_id]
    if delivery is None or delivery["status"] == "failed":
        await links.mail_done(link_id, {"mail_error": "the delivery did not become ready"})
        return False
    if delivery["status"] != "ready":
        # Links are written just before their delivery turns ready: try again shortly.
        await links.mail_retry(link_id, now, link.get("mail_attempts", 0), "not ready yet")
        return False
    message = link_message(
        settings,
        to=link["recipient_email"],
        name=link["recipient_name"],
        url=link["mail_url"],
        title=delivery["title"],
        expires=link["expires_at"].strftime("%d %B %Y"),
        message_id=f"<{link_id}.{delivery_id}@{_domain(settings.smtp_sender)}>",
    )
    try:
        await asyncio.to_thread(send_message, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        await _failed(ctx, link, f"{type(exc).__name__}: {exc}"[:300])
        return False
    await links.mail_done(link_id, {"mailed_at": datetime.now(UTC), "mail_error": None})
    return True


async def _failed(ctx: DeliveryContext, link: Document, error: str) -> None:
    settings = ctx.settings
    links = LinkRepository(ctx.db)
    attempts = link.get("mail_attempts", 0) + 1
    if attempts >= settings.mail_max_attempts:
        log.error("giving up emailing link %s after %d attempts: %s", link["_id"], attempts, error)
        await links.mail_done(link["_id"], {"mail_attempts": attempts, "mail_error": error})
        return
    delay = min(settings.mail_retry_seconds * 2 ** (attempts - 1), 6 * 3600)
    log.warning("could not email link %s (%s); retrying in %.0f s", link["_id"], error, delay)
    due = datetime.now(UTC) + timedelta(seconds=delay)
    await links.mail_retry(link["_id"], due, attempts, error)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] or "studio.invalid"


async def mail_sweeper(ctx: DeliveryContext) -> None:
    """Until cancelled: send what is due every `mail_sweep_seconds` (when SMTP is set)."""
    while True:
        try:
            await sweep_link_mails(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("link mail sweep failed (%s); retrying", exc)
        await asyncio.sleep(ctx.settings.mail_sweep_seconds)
