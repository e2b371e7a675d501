"""The link mail and its sending (standard library smtplib, in a worker thread); when to send
is decided by `notifications.outbox`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from delivery.config import DeliverySettings


def link_message(
    settings: DeliverySettings,
    *,
    to: str,
    name: str | None,
    url: str,
    title: str,
    expires: str,
    message_id: str,
) -> EmailMessage:
    message = EmailMessage()
    # One Message-ID per link: a mail sent again after a crash is recognisably the same one.
    message["Message-ID"] = message_id
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = f"{settings.studio_name}: your images are ready ({title})"
    greeting = f"Hello {name}," if name else "Hello,"
    message.set_content(
        f"{greeting}\n\n{settings.studio_name} has delivered your images: {title}.\n"
        f"Download them here: {url}\n\nThe link works until {expires}.\n"
    )
    return message


def send_message(settings: DeliverySettings, message: EmailMessage) -> None:
    """Send through the configured SMTP server (blocking: run it in a thread); raises
    OSError or SMTPException when it fails."""
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
