"""The studio's trigger rules: the defaults it gets, its own, checked templates, and the dry
run that shows what a rule would send to whom and when."""

from __future__ import annotations

from datetime import timedelta

from notify_events import NOW, booked, client, status_changed
from notify_harness import Notify, plain

STARTS = (NOW + timedelta(days=10)).replace(hour=14, minute=0, second=0)
READY = {
    "name": "Images ready for viewing",
    "trigger": "session.status",
    "status": "Upload Pending",
    "channel": "email",
    "fallbacks": ["call"],
    "subject": "{{ client.first_name }}, your images are online",
    "body": "Hello {{ client.first_name }},\n\nthe images of {{ session.number }} are ready.",
}


async def test_a_studio_starts_with_the_default_rules(notify: Notify) -> None:
    rules = (await notify.http.get("/notify/rules")).json()["items"]
    assert {r["default_key"] for r in rules} == {
        "booking-confirmation",
        "session-reminder",
        "deposit-receipt",
        "invoice-receipt",
        "delivery-ready",
    }
    reminder = next(r for r in rules if r["id"] == "session-reminder")
    assert (reminder["anchor"], reminder["offset_days"], reminder["at_local_time"]) == (
        "session_start",
        -1,
        "09:00:00",
    )
    # Seeding again (every process start) adds nothing and keeps the studio's edits.
    edited = await notify.http.put(
        "/notify/rules/session-reminder",
        json={**_fields(reminder), "at_local_time": "10:30", "version": reminder["version"]},
    )
    assert edited.status_code == 200, edited.text
    assert await notify.services.rules.seed_defaults() == 0
    again = (await notify.http.get("/notify/rules/session-reminder")).json()
    assert again["at_local_time"] == "10:30:00"
    assert (await notify.http.delete("/notify/rules/session-reminder")).status_code == 409


async def test_a_status_rule_sends_when_a_session_reaches_its_status(notify: Notify) -> None:
    created = await notify.http.post("/notify/rules", json=READY)
    assert created.status_code == 201, created.text
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0021", "cli_1", STARTS))
    await notify.deliver(status_changed("ses_0021", "Retouch Pending"))
    await notify.deliver(status_changed("ses_0021", "upload pending", version=3))
    await notify.dispatch()
    [mail] = [m for m in notify.inbox.messages if "online" in m["Subject"]]
    assert mail["Subject"] == "Ada, your images are online"
    assert "S-0021" in plain(mail)


async def test_a_template_naming_a_field_messages_do_not_have_is_refused(notify: Notify) -> None:
    response = await notify.http.post(
        "/notify/rules", json={**READY, "body": "Hello {{ clinet.first_name }}"}
    )
    assert response.status_code == 422
    assert "clinet" in response.text
    broken = await notify.http.post("/notify/rules", json={**READY, "subject": "{% if %}"})
    assert broken.status_code == 422
    assert "line 1" in broken.text
    mixed = await notify.http.post("/notify/rules", json={**READY, "status": None})
    assert mixed.status_code == 422
    assert len((await notify.http.get("/notify/rules")).json()["items"]) == 5


async def test_an_edit_from_a_stale_version_is_refused(notify: Notify) -> None:
    rule = (await notify.http.post("/notify/rules", json=READY)).json()
    first = await notify.http.put(
        f"/notify/rules/{rule['id']}", json={**READY, "name": "First", "version": 1}
    )
    assert first.status_code == 200
    stale = await notify.http.put(
        f"/notify/rules/{rule['id']}", json={**READY, "name": "Second", "version": 1}
    )
    assert stale.status_code == 409
    assert (await notify.http.get(f"/notify/rules/{rule['id']}")).json()["name"] == "First"


async def test_a_dry_run_shows_whom_what_and_when_without_sending(notify: Notify) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0022", "cli_1", STARTS))
    before = len(await notify.actions())
    preview = await notify.http.post(
        "/notify/rules/session-reminder/preview", json={"entity_id": "ses_0022"}
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["would_send"] is True
    assert (body["channel"], body["recipient"]) == ("email", "ada@example.com")
    assert body["due_at"].startswith(f"{STARTS - timedelta(days=1):%Y-%m-%d}T09:00:00")
    assert body["subject"] == "See you tomorrow at 14:00"
    assert f"{STARTS:%B %Y} at 14:00 at Studio A" in body["text"]
    assert notify.inbox.messages == []
    assert len(await notify.actions()) == before

    marketing = await notify.http.post(
        "/notify/rules",
        json={
            "name": "Welcome offer",
            "trigger": "client.created",
            "purpose": "marketing",
            "subject": "Welcome",
            "body": "Hello {{ client.first_name }}",
        },
    )
    outcome = await notify.http.post(
        f"/notify/rules/{marketing.json()['id']}/preview", json={"entity_id": "cli_1"}
    )
    assert outcome.json()["would_send"] is False
    assert outcome.json()["reason"] == "the client has not agreed to marketing messages"
    unknown = await notify.http.post(
        "/notify/rules/session-reminder/preview", json={"entity_id": "ses_nope"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"


def _fields(rule: dict[str, object]) -> dict[str, object]:
    keep = [
        "name",
        "trigger",
        "status",
        "session_type_ids",
        "anchor",
        "offset_days",
        "offset_minutes",
        "at_local_time",
        "channel",
        "fallbacks",
        "purpose",
        "subject",
        "body",
        "enabled",
    ]
    return {k: rule[k] for k in keep}
