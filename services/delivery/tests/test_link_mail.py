"""The link email is driven from stored state: a process that dies between "ready" and "sent",
or an SMTP server that is away, delays the mail but never loses it, and it is sent once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from delivery.links.repository import LINKS
from delivery.notifications.outbox import sweep_link_mails
from kit.mongo import Document
from kit.testing import eventually


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def silent_smtp() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A server that accepts connections and never greets: a send hangs in it, as when the
    process dies mid-send. Closing it at the end lets the hung send fail at once."""
    connected = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        connected.set()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connected
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def link_of(service: Any, delivery_id: str) -> Document:
    link: Document | None = await service.ctx.db[LINKS].find_one({"delivery_id": delivery_id})
    assert link is not None
    return link


def urls_in(inbox: Any) -> list[str]:
    return [
        word
        for message in inbox.messages
        for word in message.get_payload(decode=True).decode().split()
        if word.startswith("https://photos.example.com/d/")
    ]


async def test_a_link_mail_left_by_a_process_that_died_mid_send_is_sent_once_later(
    delivery_service: Any, smtp: tuple[Any, int]
) -> None:
    inbox, port = smtp
    async with silent_smtp() as (silent_port, connected):
        # The first process makes the delivery ready and starts sending; it dies mid-send.
        async with delivery_service(
            keep_database=True, smtp_host="127.0.0.1", smtp_port=silent_port, mail_lease_seconds=1
        ) as first:
            images = await first.upload("s1", 2)
            answer = await first.http.post(
                "/deliveries",
                json={
                    "session_id": "s1",
                    "keys": list(images),
                    "recipients": [{"email": "ann@example.com", "name": "Ann"}],
                },
            )
            assert answer.status_code == 202
            delivery_id = answer.json()["id"]
            await connected.wait()  # the mail is being sent (and will never be)
            delivery = (await first.http.get(f"/deliveries/{delivery_id}")).json()
            assert delivery["status"] == "ready"
            left = await link_of(first, delivery_id)
            assert left["mail_pending"] is True
            assert left["mail_url"] is not None
        # The process is gone (its send cancelled); the mail stays due in the database.
        assert inbox.messages == []

    # The process comes back (or another replica runs): its sweep sends the mail.
    async with delivery_service(
        smtp_host="127.0.0.1", smtp_port=port, mail_sweep_seconds=0.1, mail_lease_seconds=1
    ) as restarted:

        async def mailed() -> bool:
            return (await link_of(restarted, delivery_id))["mail_pending"] is False

        await eventually(mailed, timeout=30, what="the pending link mail to be sent")
        # Nothing is due any more: further sweeps, however many at once, send nothing.
        again = await asyncio.gather(*(sweep_link_mails(restarted.ctx) for _ in range(3)))
        assert again == [0, 0, 0]
        sent = await link_of(restarted, delivery_id)
        [ready] = await restarted.events(delivery_id, "delivery.delivery.ready.v1")

    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ann@example.com"
    assert message["Message-ID"] == f"<{sent['_id']}.{delivery_id}@studio.invalid>"
    assert urls_in(inbox) == [ready["data"]["link_url"]]
    assert sent["mail_url"] is None  # the token is forgotten once the mail is out
    assert sent["mailed_at"] is not None


async def test_a_link_mail_refused_by_an_absent_smtp_server_is_retried_until_sent(
    delivery_service: Any,
) -> None:
    port = free_port()  # nothing listens here yet
    async with delivery_service(
        smtp_host="127.0.0.1", smtp_port=port, mail_sweep_seconds=0.1, mail_retry_seconds=0.2
    ) as service:
        images = await service.upload("s2", 1)
        delivery = await service.deliver(
            "s2", list(images), recipients=[{"email": "bob@example.com"}]
        )
        assert delivery["status"] == "ready"  # a mail failure never fails the delivery

        async def refused() -> bool:
            return bool((await link_of(service, delivery["id"])).get("mail_attempts"))

        await eventually(refused, timeout=30, what="the first attempt to be refused")
        failed = await link_of(service, delivery["id"])
        assert failed["mail_pending"] is True
        assert "Connection refused" in failed["mail_error"] or "Errno" in failed["mail_error"]

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()  # the SMTP server is back
        try:

            async def mailed() -> bool:
                return (await link_of(service, delivery["id"]))["mail_pending"] is False

            await eventually(mailed, timeout=30, what="the retried link mail to be sent")
        finally:
            controller.stop()
    assert [m["To"] for m in inbox.messages] == ["bob@example.com"]


async def test_links_without_an_email_or_without_smtp_have_no_mail_to_send(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:  # no SMTP configured
        images = await service.upload("s3", 1)
        delivery = await service.deliver(
            "s3", list(images), recipients=[{"email": "cy@example.com"}]
        )
        link = await link_of(service, delivery["id"])
        assert link["mail_pending"] is False
        assert link["mail_url"] is None
