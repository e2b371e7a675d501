"""Emailing a link to its recipient (standard library smtplib, in a worker thread)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from delivery.config import DeliverySettings

log = logging.getLogger(__name__)


def link_message(
    settings: DeliverySettings, *, to: str, name: str | None, url: str, title: str, expires: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = f"{settings.studio_name}: your images are ready ({title})"
    greeting = f"Hello {name}," if name else "Hello,"
    message.set_content(
        f"{greeting}\n\n{settings.studio_name} has delivered your images: {title}.\n"
        f"Download them here: {url}\n\nThe link works until {expires}.\n"
    )
    return message


def _send(settings: DeliverySettings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def send_link(settings: DeliverySettings, message: EmailMessage) -> bool:
    """Send when SMTP is configured; a mail failure is logged, never fails the delivery."""
    if settings.smtp_host is None:
        return False
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not email a delivery link to %s: %s", message["To"], exc)
        return False
    return True
