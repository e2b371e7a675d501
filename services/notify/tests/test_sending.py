"""How an action reaches the client: the channel they can be reached on, quiet hours,
retries and giving up, one send however many dispatchers run, the same Message-ID when a
crash makes a mail go again."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

from notify_events import NOW, booked, client, delivery_ready, deposit
from notify_harness import Notify, plain

from notify.bootstrap import build

STARTS = (NOW + timedelta(days=10)).replace(hour=14, minute=0, second=0)


async def test_a_client_without_email_gets_an_sms_and_without_either_a_call_record(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_sms", sms="+1 (555) 010-2030"))
    await notify.deliver(client("cli_none"))
    await notify.deliver(booked("ses_0011", "cli_sms", STARTS))
    await notify.deliver(booked("ses_0012", "cli_none", STARTS))
    assert (await notify.dispatch()).sent == 2

    [sms] = notify.sms.messages
    assert sms.to == "+15550102030"
    assert "S-0011" in sms.text
    assert (
        sms.idempotency_key
        == (await notify.action_of("booking-confirmation", session_id="ses_0011"))["_id"]
    )

    tasks = (await notify.http.get("/notify/tasks")).json()["items"]
    [call] = tasks
    assert call["kind"] == "call"
    assert call["title"] == "Call Ada Lovelace: Your session with Lumen Studio is booked"
    assert call["session_id"] == "ses_0012"
    assert "S-0012" in call["note"]
    action = await notify.action_of("booking-confirmation", session_id="ses_0012")
    assert (action["state"], action["channel_used"]) == ("sent", "call")

    done = await notify.http.post(
        f"/notify/tasks/{call['id']}/done",
        json={"outcome": "confirmed by phone"},
        headers={"X-User-Id": "usr_anna"},
    )
    assert done.status_code == 200
    assert (done.json()["done_by"], done.json()["outcome"]) == ("usr_anna", "confirmed by phone")
    again = await notify.http.post(f"/notify/tasks/{call['id']}/done", json={})
    assert again.status_code == 409
    assert "usr_anna" in again.json()["message"]
    assert (await notify.http.get("/notify/tasks")).json()["items"] == []


async def test_an_sms_due_in_quiet_hours_waits_until_they_end(notify_with: object) -> None:
    async with notify_with(quiet_hours_sms="21:00-08:00") as notify:  # type: ignore[operator]
        await notify.deliver(client("cli_sms", sms="+15550102030"))
        late_evening = datetime.now(UTC).replace(hour=22, minute=30, second=0, microsecond=0)
        await notify.deliver(booked("ses_0013", "cli_sms", STARTS, at=late_evening))
        report = await notify.dispatch(late_evening)
        assert (report.sent, report.deferred) == (0, 1)
        morning = (late_evening + timedelta(days=1)).replace(hour=8, minute=0)
        action = await notify.action_of("booking-confirmation")
        assert action["due_at"] == morning
        assert (await notify.dispatch(morning - timedelta(minutes=1))).sent == 0
        assert notify.sms.messages == []
        assert (await notify.dispatch(morning)).sent == 1
        assert len(notify.sms.messages) == 1


async def test_a_mail_server_that_is_down_is_retried_then_given_up_with_the_reason(
    notify_with: object,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens there once the probe closes
    async with notify_with(smtp_port=closed, max_attempts=2, retry_seconds=60) as notify:  # type: ignore[operator]
        await notify.deliver(client("cli_1", email="ada@example.com"))
        await notify.deliver(booked("ses_0014", "cli_1", STARTS))
        report = await notify.dispatch()
        assert report.retried == 1
        action = await notify.action_of("booking-confirmation")
        assert action["state"] == "scheduled"
        assert "Connect" in action["last_error"] or "refused" in action["last_error"]
        retry_at = action["due_at"]
        assert retry_at > datetime.now(UTC) + timedelta(seconds=50)
        report = await notify.dispatch(retry_at)
        assert report.failed == 1
        action = await notify.action_of("booking-confirmation")
        assert action["state"] == "failed"
        assert action["reason"].startswith("gave up after 2 tries")
        assert action["_outbox"][-1]["type"] == "notify.message.failed.v1"


async def test_two_dispatchers_at_once_send_each_message_once(notify: Notify) -> None:
    for n in range(20):
        await notify.deliver(client(f"cli_{n}", email=f"client{n}@example.com"))
        await notify.deliver(booked(f"ses_{n:04d}", f"cli_{n}", STARTS))
    # A second process's dispatcher: its own pieces, the same database.
    other = build(notify.platform).dispatcher
    first, second = await asyncio.gather(notify.dispatch(), other.run_due())
    assert first.sent + second.sent == 20
    assert len(notify.inbox.messages) == 20
    assert len({m["To"] for m in notify.inbox.messages}) == 20


async def test_a_send_whose_sender_died_goes_again_with_the_same_message_id(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0015", "cli_1", STARTS))
    action = await notify.action_of("booking-confirmation")
    await notify.dispatch()
    [first] = notify.inbox.messages
    # As if the sender had crashed after the server accepted the mail, before the record.
    now = datetime.now(UTC)
    await notify.db["actions"].update_one(
        {"_id": action["_id"]},
        {
            "$set": {
                "state": "sending",
                "claim_until": now - timedelta(seconds=1),
                "claim_token": "dead",
            }
        },
    )
    assert (await notify.dispatch()).sent == 1
    first_again, second = notify.inbox.messages
    assert first_again is first
    assert second["Message-ID"] == first["Message-ID"] == f"<{action['_id']}@studio.test>"


async def test_a_delivery_link_is_mailed_and_forgotten_once_sent(notify: Notify) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0016", "cli_1", STARTS))
    await notify.deliver(delivery_ready("lnk_1", "ses_0016", email="grandma@example.com"))
    await notify.dispatch()
    [mail] = notify.inbox.to("grandma@example.com")
    assert mail["Subject"] == "Lumen Studio: your images are ready (Portraits)"
    assert "https://studio.test/d/token-of-lnk_1" in plain(mail)
    action = await notify.action_of("delivery-ready")
    assert "link_url" not in action["facts"]
    assert action["recipient"] == "grandma@example.com"


async def test_a_deposit_is_receipted_with_its_amount(notify: Notify) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0017", "cli_1", STARTS))
    await notify.deliver(deposit("ses_0017", "cli_1", amount_minor=7550))
    await notify.dispatch()
    [receipt] = [m for m in notify.inbox.to("ada@example.com") if "deposit" in m["Subject"]]
    assert "75.50 USD" in plain(receipt)
