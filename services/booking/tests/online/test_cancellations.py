"""A client's cancellation settles the deposit by the studio's policy (and says how); a
client's links stop working after the cut-off, once the session started or once workflow moved
it on; the studio reopens a session cancelled by mistake; the loser of a race for one online
slot is told it is gone and leaves no client record behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from pymongo import AsyncMongoClient

from booking.config import BookingSettings
from booking.consumers import subscriptions
from booking.main import service_spec
from kit.app import open_platform
from kit.consumers import consume
from kit.events.contracts.workflow import SessionStatusChanged
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import eventually, read_topic

from .conftest import booking_request, created, database_of, monday_at, open_studio, pay_checkout

OWNER = {"X-User-Id": "owner-olga", "X-User-Role": "owner"}
STAFF = {"X-User-Id": "staff-sam", "X-User-Role": "staff"}


async def set_studio(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    current = (await client.get("/scheduling-settings")).json()
    body = {
        "studio_name": "Lee Portraits",
        "studio_phone": "+1 312 555 0100",
        "currency": "usd",
        "change_cutoff_hours": 24,
        "deposit_policy": {"kind": "keep"},
        "version": current["version"],
        **changes,
    }
    answer = await client.put("/scheduling-settings", json=body, headers=OWNER)
    assert answer.status_code == 200, answer.text
    saved: dict[str, Any] = answer.json()
    return saved


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def book_online(
    client: httpx.AsyncClient, type_id: str, starts_at: str, email: str
) -> dict[str, Any]:
    return await created(
        await client.post("/public/bookings", json=booking_request(type_id, starts_at, email))
    )


async def book_with_paid_deposit(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """A session two weeks ahead whose 50.00 deposit was paid through Checkout."""
    stype = await open_studio(client, deposit_minor=5000)
    confirmation = await book_online(client, stype["id"], monday_at(10), email)
    paid = await pay_checkout(client, confirmation["deposit"]["payment_id"])
    assert paid.json()["outcome"] == "applied"
    return confirmation


async def cancel_by_link(client: httpx.AsyncClient, confirmation: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"/public/sessions/{confirmation['session_id']}/cancel",
        json={"token": token_of(confirmation["links"]["cancel_url"]), "reason": "ill"},
    )


async def test_a_client_cancelling_in_time_gets_the_deposit_back_by_the_studio_policy(
    booking: httpx.AsyncClient, infra: InfraSettings
) -> None:
    await set_studio(booking, deposit_policy={"kind": "refund_before", "days": 7})
    confirmation = await book_with_paid_deposit(booking, "rita@example.com")
    payment_id = confirmation["deposit"]["payment_id"]

    answer = await cancel_by_link(booking, confirmation)

    assert answer.status_code == 200, answer.text
    public = answer.json()
    assert (public["state"], public["deposit_outcome"]) == ("cancelled", "refunded")
    assert "at least 7 days" in public["deposit_outcome_reason"]
    session = (await booking.get(f"/sessions/{confirmation['session_id']}")).json()
    outcome = session["deposit_outcome"]
    assert (outcome["outcome"], outcome["amount_minor"]) == ("refunded", 5000)
    assert (outcome["policy"], outcome["payment_id"]) == ("refund_before:7", payment_id)
    assert session["cancelled_by"] == "client"
    payment = (await booking.get(f"/payments/{payment_id}")).json()
    assert (payment["status"], payment["refunded_minor"]) == ("refunded", 5000)
    assert payment["refunds"][0]["stripe_refund"].startswith("re_")  # stripe-mock's refund
    assert payment["cancellation"]["outcome"] == "refunded"
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    refunds = [
        json.loads(r.value)["data"]
        for r in records
        if r.key == payment_id.encode()
        and json.loads(r.value)["type"] == "booking.payment.refunded.v1"
    ]
    assert [(e["refund_minor"], e["session_id"]) for e in refunds] == [
        (5000, confirmation["session_id"])
    ]


async def test_a_client_cancelling_late_leaves_the_deposit_kept_and_is_told_so(
    booking: httpx.AsyncClient,
) -> None:
    await set_studio(booking, deposit_policy={"kind": "refund_before", "days": 30})
    confirmation = await book_with_paid_deposit(booking, "kim@example.com")

    answer = await cancel_by_link(booking, confirmation)

    assert answer.status_code == 200, answer.text
    assert answer.json()["deposit_outcome"] == "kept"
    assert "less than 30 days" in answer.json()["deposit_outcome_reason"]
    payment = (await booking.get(f"/payments/{confirmation['deposit']['payment_id']}")).json()
    assert (payment["status"], payment["refunded_minor"]) == ("succeeded", 0)
    assert payment["cancellation"]["outcome"] == "kept"
    assert "less than 30 days" in payment["cancellation"]["reason"]


async def test_a_deposit_refund_a_crash_left_undone_is_finished_by_the_sweep(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    confirmation = await book_with_paid_deposit(booking, "crash@example.com")
    session_id, payment_id = confirmation["session_id"], confirmation["deposit"]["payment_id"]
    db = database_of(booking, mongo)
    # As a process that died right after writing the cancellation leaves it: refund decided.
    await db["sessions"].update_one(
        {"_id": session_id},
        {
            "$set": {
                "state": "cancelled",
                "cancel_reason": "ill",
                "claims_released": False,
                "deposit_outcome": {
                    "outcome": "pending",
                    "policy": "refund",
                    "reason": "The studio's policy refunds the deposit in full on a cancellation.",
                    "payment_id": payment_id,
                    "amount_minor": 5000,
                    "refund_id": None,
                    "decided_at": datetime.now(UTC) - timedelta(minutes=10),
                },
            }
        },
    )

    # Another booking process starts: its sweep finishes the refund.
    async with open_platform(BookingSettings(database=db.name), service_spec()):

        async def refunded() -> bool:
            found = await db["sessions"].find_one({"_id": session_id})
            return bool(found and found["deposit_outcome"]["outcome"] == "refunded")

        await eventually(refunded, timeout=30, what="the sweep to finish the refund")

    payment = (await booking.get(f"/payments/{payment_id}")).json()
    assert (payment["status"], payment["refunded_minor"]) == ("refunded", 5000)
    assert payment["cancellation"]["outcome"] == "refunded"
    session = (await booking.get(f"/sessions/{session_id}")).json()
    assert session["deposit_outcome"]["refund_id"] == f"{payment_id}-cancelled"


async def test_the_studio_cancelling_refunds_or_keeps_the_deposit_as_it_chooses(
    booking: httpx.AsyncClient,
) -> None:
    await set_studio(booking, deposit_policy={"kind": "keep"})
    confirmation = await book_with_paid_deposit(booking, "lou@example.com")
    session_id = confirmation["session_id"]

    answer = await booking.post(
        f"/sessions/{session_id}/cancel",
        json={"reason": "photographer ill", "deposit": "refund"},
        headers=STAFF,
    )

    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert (session["state"], session["cancelled_by"]) == ("cancelled", "staff-sam")
    assert session["deposit_outcome"]["outcome"] == "refunded"
    assert session["deposit_outcome"]["policy"] == "studio's choice: refund"
    payment = (await booking.get(f"/payments/{confirmation['deposit']['payment_id']}")).json()
    assert payment["status"] == "refunded"


async def test_a_clients_link_stops_working_after_the_cut_off_and_says_to_call_the_studio(
    booking: httpx.AsyncClient,
) -> None:
    stype = await open_studio(booking)
    confirmation = await book_online(booking, stype["id"], monday_at(10), "cut@example.com")
    session_id = confirmation["session_id"]
    cancel_token = token_of(confirmation["links"]["cancel_url"])
    before = await booking.get(f"/public/sessions/{session_id}", params={"token": cancel_token})
    assert before.json()["can_change"] is True
    # Two weeks ahead, but the studio closes changes 60 days before.
    await set_studio(booking, change_cutoff_hours=60 * 24)

    view = await booking.get(f"/public/sessions/{session_id}", params={"token": cancel_token})
    # Opening the link itself (a GET of the URL the client was sent) answers the same.
    opened = await booking.get(
        urlparse(confirmation["links"]["cancel_url"]).path, params={"token": cancel_token}
    )
    wrong = await booking.get(
        f"/public/sessions/{session_id}/reschedule", params={"token": cancel_token}
    )
    cancel = await booking.post(
        f"/public/sessions/{session_id}/cancel", json={"token": cancel_token}
    )
    move = await booking.post(
        f"/public/sessions/{session_id}/reschedule",
        json={
            "token": token_of(confirmation["links"]["reschedule_url"]),
            "starts_at": monday_at(14),
        },
    )

    assert view.status_code == 200
    assert view.json()["can_change"] is False
    assert "call Lee Portraits on +1 312 555 0100" in view.json()["refusal"]
    assert opened.status_code == 200, opened.text
    assert opened.json()["refusal"] == view.json()["refusal"]
    assert wrong.status_code == 403  # a cancel link's token does not open the reschedule link
    for refused in (cancel, move):
        assert refused.status_code == 409, refused.text
        assert "1440 hours before the session" in refused.json()["message"]
        assert "call Lee Portraits" in refused.json()["message"]
        assert refused.json()["detail"]["call_the_studio"] is True
    assert (await booking.get(f"/sessions/{session_id}")).json()["state"] == "booked"


async def test_a_clients_link_never_works_once_the_session_has_started(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    await set_studio(booking, change_cutoff_hours=0)
    stype = await open_studio(booking)
    confirmation = await book_online(booking, stype["id"], monday_at(10), "late@example.com")
    # The session's time has come (moved into the past in the database, as time would).
    started = datetime.now(UTC) - timedelta(minutes=5)
    await database_of(booking, mongo)["sessions"].update_one(
        {"_id": confirmation["session_id"]},
        {"$set": {"starts_at": started, "ends_at": started + timedelta(hours=1)}},
    )

    cancel = await cancel_by_link(booking, confirmation)

    assert cancel.status_code == 409
    assert "has started" in cancel.json()["message"]


@contextlib.asynccontextmanager
async def booking_consumer(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document], infra: InfraSettings, unique: str
) -> AsyncIterator[str]:
    """Booking's consumer process, reading workflow's events from a topic of the test's own."""
    topic = f"t.{unique}.workflow.events"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    settings = BookingSettings(
        database=database_of(booking, mongo).name,
        workflow_topic=topic,
        consumer_group=f"booking-{unique}",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            service_spec().background_only(),
            group_id=settings.consumer_group,
            topics=[topic],
            subscriptions=subscriptions,
            stop=stop,
        )
    )
    try:
        yield topic
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def status_changed(session_id: str, version: int, name: str, stage: str) -> Envelope:
    return Envelope.wrap(
        SessionStatusChanged(
            entity_kind="session",
            entity_id=session_id,
            session_id=session_id,
            from_status=None if version == 1 else f"status-{version - 1}",
            to_status=f"status-{version}",
            to_status_name=name,
            stage=stage,
            changed_by="amy",
            changed_at=datetime.now(UTC),
            version=version,
        ),
        subject=session_id,
        source=source_of("workflow"),
    )


async def test_a_clients_link_stops_working_once_workflow_moved_the_session_past_its_first_stage(
    booking: httpx.AsyncClient,
    mongo: AsyncMongoClient[Document],
    infra: InfraSettings,
    unique: str,
) -> None:
    stype = await open_studio(booking)
    confirmation = await book_online(booking, stype["id"], monday_at(10), "wf@example.com")
    session_id = confirmation["session_id"]
    token = token_of(confirmation["links"]["cancel_url"])
    db = database_of(booking, mongo)

    async def heard(version: int) -> None:
        async def stored() -> bool:
            found = await db["sessions"].find_one({"_id": session_id})
            return bool(found and found.get("workflow_version") == version)

        await eventually(stored, timeout=30, what=f"workflow's version {version} heard")

    async def view() -> dict[str, Any]:
        answer = await booking.get(f"/public/sessions/{session_id}", params={"token": token})
        body: dict[str, Any] = answer.json()
        return body

    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test-workflow")
    try:
        async with booking_consumer(booking, mongo, infra, unique) as topic:
            first = status_changed(session_id, 1, "Session Pending", "capture")
            await publisher.publish_many(topic, [first, first])
            await heard(1)
            still = await view()
            await publisher.publish_many(
                topic, [status_changed(session_id, 2, "Capture Images Pending", "capture")]
            )
            await heard(2)
            same_stage = await view()
            later = status_changed(session_id, 3, "Edits Pending", "present")
            # An older change delivered late changes nothing.
            await publisher.publish_many(
                topic, [later, status_changed(session_id, 2, "Capture Images Pending", "capture")]
            )
            await heard(3)
            await asyncio.sleep(1)
    finally:
        await publisher.stop()
    moved_on = await view()
    cancel = await booking.post(f"/public/sessions/{session_id}/cancel", json={"token": token})

    assert still["can_change"] is True
    assert same_stage["can_change"] is True
    assert moved_on["can_change"] is False
    assert "started work on this session" in moved_on["refusal"]
    assert cancel.status_code == 409
    session = (await booking.get(f"/sessions/{session_id}")).json()
    assert (session["workflow_status"], session["workflow_stage"]) == ("Edits Pending", "present")
    assert session["state"] == "booked"


async def test_a_session_cancelled_by_mistake_is_reopened_in_its_free_slot_saying_who_and_why(
    booking: httpx.AsyncClient, infra: InfraSettings
) -> None:
    stype = await open_studio(booking)
    confirmation = await book_online(booking, stype["id"], monday_at(10), "oops@example.com")
    session_id = confirmation["session_id"]
    cancelled = await booking.post(
        f"/sessions/{session_id}/cancel", json={"reason": "wrong row"}, headers=STAFF
    )
    assert cancelled.status_code == 200, cancelled.text

    # Cancelled stays final for the client: the link answers "call the studio".
    by_client = await cancel_by_link(booking, confirmation)
    reopen = await booking.post(
        f"/sessions/{session_id}/reopen",
        json={"reason": "cancelled the wrong session", "version": cancelled.json()["version"]},
        headers=OWNER,
    )

    assert by_client.status_code == 409
    assert "cancelled" in by_client.json()["message"]
    assert "Please call the studio" in by_client.json()["message"]  # no name saved yet
    assert reopen.status_code == 200, reopen.text
    session = reopen.json()
    assert session["state"] == "booked"
    assert session["cancel_reason"] is None
    assert datetime.fromisoformat(session["starts_at"]) == datetime.fromisoformat(monday_at(10))
    assert [(r["by"], r["reason"], r["previous_cancel_reason"]) for r in session["reopened"]] == [
        ("owner-olga", "cancelled the wrong session", "wrong row")
    ]
    # The slot is held again: nobody else can book it.
    taken = await booking.post(
        "/public/bookings", json=booking_request(stype["id"], monday_at(10), "other@example.com")
    )
    assert taken.status_code == 409
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    events = [json.loads(r.value) for r in records if r.key == session_id.encode()]
    assert [e["type"].split(".")[2] for e in events] == ["booked", "cancelled", "booked"]
    assert events[2]["data"]["reopened_by"] == "owner-olga"
    assert events[2]["data"]["reopen_reason"] == "cancelled the wrong session"


async def test_reopening_a_session_whose_slot_was_taken_asks_for_another_slot(
    booking: httpx.AsyncClient,
) -> None:
    stype = await open_studio(booking)
    confirmation = await book_online(booking, stype["id"], monday_at(10), "first@example.com")
    session_id = confirmation["session_id"]
    cancelled = await booking.post(f"/sessions/{session_id}/cancel", json={"reason": "mistake"})
    await book_online(booking, stype["id"], monday_at(10), "second@example.com")
    version = cancelled.json()["version"]

    refused = await booking.post(
        f"/sessions/{session_id}/reopen", json={"reason": "mistake", "version": version}
    )
    by_marketing = await booking.post(
        f"/sessions/{session_id}/reopen",
        json={"reason": "x", "version": version, "starts_at": monday_at(13)},
        headers={"X-User-Id": "m", "X-User-Role": "marketing"},
    )
    elsewhere = await booking.post(
        f"/sessions/{session_id}/reopen",
        json={
            "reason": "mistake",
            "version": refused.json()["detail"]["version"],
            "starts_at": monday_at(13),
        },
        headers=STAFF,
    )

    assert refused.status_code == 409
    assert "choose another slot" in refused.json()["message"]
    assert refused.json()["detail"]["choose_another_slot"] is True
    assert by_marketing.status_code == 403
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["state"] == "booked"
    assert datetime.fromisoformat(elsewhere.json()["starts_at"]) == datetime.fromisoformat(
        monday_at(13)
    )
    again = await booking.post(
        f"/sessions/{session_id}/reopen", json={"reason": "twice", "version": version + 10}
    )
    assert again.status_code == 409  # only a cancelled session is reopened


async def test_the_loser_of_a_race_for_one_online_slot_is_told_it_is_gone_and_leaves_no_client(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking)
    emails = [f"racer{i}@example.com" for i in range(6)]

    answers = await asyncio.gather(
        *(
            booking.post("/public/bookings", json=booking_request(stype["id"], monday_at(11), e))
            for e in emails
        )
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 5, [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 201)
    losers = [e for e, a in zip(emails, answers, strict=True) if a.status_code == 409]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["detail"]["slot_gone"] is True
            assert "choose another time" in answer.json()["message"]
    db = database_of(booking, mongo)
    assert await db["clients"].count_documents({"deleted_at": None}) == 1
    assert (await db["clients"].find_one({"_id": winner["client_id"]}))["deleted_at"] is None
    for email in losers:
        assert await db["clients"].find_one({"email": email, "deleted_at": None}) is None
    # A loser books another time: a live client record is made (or reused) for them.
    retry = await book_online(booking, stype["id"], monday_at(13), losers[0])
    client = await db["clients"].find_one({"_id": retry["client_id"]})
    assert client["email"] == losers[0]
    assert await db["clients"].count_documents({"deleted_at": None}) == 2


async def test_a_double_click_booking_one_slot_keeps_the_client_the_winning_booking_names(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking)
    request = booking_request(stype["id"], monday_at(12), "twice@example.com")

    answers = await asyncio.gather(*(booking.post("/public/bookings", json=request) for _ in "ab"))

    assert sorted(a.status_code for a in answers) == [201, 409]
    winner = next(a.json() for a in answers if a.status_code == 201)
    db = database_of(booking, mongo)
    client = await db["clients"].find_one({"_id": winner["client_id"]})
    assert client["deleted_at"] is None
    assert (
        await db["clients"].count_documents({"email": "twice@example.com", "deleted_at": None}) == 1
    )
