"""Email through the configured SMTP server (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notify.config import NotifySettings
from notify.messages.documents import Attachment
from notify.messages.templates import RenderedMessage

# What a send can fail with that a later try may not: the server away, slow, or busy.
TRANSIENT = (OSError, aiosmtplib.SMTPException)


class RecipientRefused(Exception):
    """The SMTP server refused the address itself (a 5xx for the recipient)."""


def email_message(
    settings: NotifySettings,
    *,
    to: str,
    rendered: RenderedMessage,
    message_id: str,
    unsubscribe_url: str | None,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    message = EmailMessage()
    # The same id on every try of one action: a mail sent again after a crash is
    # recognisably the one already delivered.
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = rendered.subject
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        message.add_attachment(
            attachment.content, maintype="application", subtype="pdf", filename=attachment.filename
        )
    return message


class Mailer:
    def __init__(self, settings: NotifySettings) -> None:
        if settings.smtp_host is None:
            raise ValueError("no SMTP host configured")
        self._settings = settings
        self.domain = settings.smtp_sender.rsplit("@", 1)[-1] or "studio.invalid"

    async def send(self, message: EmailMessage) -> None:
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise RecipientRefused(str(exc)) from exc
