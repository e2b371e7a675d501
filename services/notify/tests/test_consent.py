"""Marketing goes only to clients who agreed; every email carries a signed unsubscribe link;
using it withdraws consent (once), announced to booking, while transactional mail still goes."""

from __future__ import annotations

from datetime import timedelta

from notify_events import NOW, booked, client
from notify_harness import Notify, plain

WELCOME = {
    "name": "Welcome offer",
    "trigger": "client.created",
    "purpose": "marketing",
    "subject": "A welcome from {{ studio.name }}",
    "body": "Hello {{ client.first_name }}, 10% off your first session.",
}


async def test_marketing_reaches_only_clients_who_agreed_and_stops_after_unsubscribing(
    notify: Notify,
) -> None:
    rule = (await notify.http.post("/notify/rules", json=WELCOME)).json()
    await notify.deliver(client("cli_yes", email="yes@example.com", consent=True))
    await notify.deliver(client("cli_no", email="no@example.com", consent=False))
    report = await notify.dispatch()
    assert (report.sent, report.skipped) == (1, 1)
    [offer] = notify.inbox.to("yes@example.com")
    assert notify.inbox.to("no@example.com") == []
    skipped = await notify.action_of(rule["id"], client_id="cli_no")
    assert skipped["reason"] == "the client has not agreed to marketing messages"

    link = offer["List-Unsubscribe"].strip()[1:-1]
    assert link in plain(offer)
    path = link.removeprefix("https://studio.test")
    page = await notify.http.get(path)
    assert page.status_code == 200
    assert "<form method=post" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    contact = await notify.db["contacts"].find_one({"_id": "cli_yes"})
    assert contact is not None
    assert contact["marketing_consent"] is True  # opening changes nothing

    done = await notify.http.post(path, content="List-Unsubscribe=One-Click")
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    contact = await notify.db["contacts"].find_one({"_id": "cli_yes"})
    assert contact is not None
    assert contact["marketing_consent"] is False
    [event] = contact["_outbox"]
    assert event["type"] == "notify.client.unsubscribed.v1"
    assert event["data"]["client_id"] == "cli_yes"
    # A second use (the button after the mail program's one-click) announces nothing more.
    assert (await notify.http.post(path)).status_code == 200
    contact = await notify.db["contacts"].find_one({"_id": "cli_yes"})
    assert contact is not None
    assert len(contact["_outbox"]) == 1

    # A booking confirmation (transactional) still goes to the unsubscribed client.
    await notify.deliver(booked("ses_0031", "cli_yes", NOW + timedelta(days=5)))
    await notify.dispatch()
    assert any("booked" in m["Subject"] for m in notify.inbox.to("yes@example.com"))


async def test_a_made_up_or_altered_unsubscribe_link_changes_nothing(notify: Notify) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com", consent=True))
    for token in ("Y2xpXzE.forged-signature-value", "not-a-token-at-all"):
        response = await notify.http.post(f"/u/{token}")
        assert response.status_code == 404
        assert "not valid" in response.text
    contact = await notify.db["contacts"].find_one({"_id": "cli_1"})
    assert contact is not None
    assert contact["marketing_consent"] is True
    assert "_outbox" not in contact or contact["_outbox"] == []
