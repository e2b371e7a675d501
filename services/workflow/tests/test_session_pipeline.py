"""A booked session walks its pipeline status by status; every change is on Kafka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from workflow_harness import Workflow

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked, SessionCancelled, SessionRescheduled
from kit.events.contracts.workflow import SessionStatusChanged
from workflow.sessions.service import SessionService

DEFAULT_PIPELINE = [
    "Session Pending",
    "Capture Images Pending",
    "Edits Pending",
    "Presentation Pending",
    "Retouch Pending",
    "Upload Pending",
    "Production Pending",
    "Delivery Pending",
    "Archive Pending",
    "Delete Images Pending",
    "Session Closed",
]


def booked(
    session_id: str,
    *,
    session_type_id: str = "portrait",
    starts_at: datetime | None = None,
    resource_ids: list[str] | None = None,
) -> SessionBooked:
    starts_at = starts_at or datetime(2026, 12, 1, 10, tzinfo=UTC)
    return SessionBooked(
        session_id=session_id,
        session_number=f"S-{session_id}",
        client_id="client-1",
        session_type_id=session_type_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        resource_ids=resource_ids or ["photographer-ann"],
    )


def rescheduled(session_id: str, starts_at: datetime) -> SessionRescheduled:
    return SessionRescheduled(
        **{
            **booked(session_id).model_dump(),
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
        }
    )


async def book(workflow: Workflow, session_id: str, **kwargs: Any) -> None:
    await workflow.deliver(workflow.envelope(booked(session_id, **kwargs), subject=session_id))


async def test_a_booked_session_walks_the_whole_default_pipeline_with_each_change_on_kafka(
    workflow: Workflow,
) -> None:
    envelope = workflow.envelope(booked("s1"), subject="s1")
    await workflow.publish(envelope)
    await workflow.handled(envelope)

    session = (await workflow.client.get("/workflow/sessions/s1")).json()
    assert session["status"]["name"] == "Session Pending"
    assert session["session_number"] == "S-s1"

    for expected in DEFAULT_PIPELINE[1:]:
        answer = await workflow.client.post(
            "/workflow/sessions/s1/status",
            json={"note": f"on to {expected}", "result": "done"},
            headers={"X-User-Id": "ann"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"]["name"] == expected
    assert answer.json()["closed"] is True

    events = await workflow.workflow_events("s1", len(DEFAULT_PIPELINE))
    assert [e.type for e in events] == [SessionStatusChanged.event_type] * len(DEFAULT_PIPELINE)
    changes = [e.payload(SessionStatusChanged) for e in events]
    assert [c.to_status_name for c in changes] == DEFAULT_PIPELINE
    assert [c.from_status_name for c in changes] == [None, *DEFAULT_PIPELINE[:-1]]
    assert changes[0].changed_by == "booking"
    assert {c.changed_by for c in changes[1:]} == {"ann"}
    assert changes[1].note == "on to Capture Images Pending"
    assert [c.version for c in changes] == list(range(1, len(DEFAULT_PIPELINE) + 1))

    history = (await workflow.client.get("/workflow/sessions/s1/history")).json()["history"]
    assert [h["to_status_name"] for h in history] == DEFAULT_PIPELINE
    assert history[3]["result"] == "done"
    assert history[3]["changed_by"] == "ann"

    closed = await workflow.client.post("/workflow/sessions/s1/status", json={})
    assert closed.status_code == 409
    assert closed.json()["error"] == "invalid_transition"
    assert "closed" in closed.json()["message"]


async def test_a_change_sets_the_due_date_in_business_days_of_the_studio_week(
    workflow: Workflow,
) -> None:
    await book(workflow, "s-due")
    answer = await workflow.client.post("/workflow/sessions/s-due/status", json={})
    status = answer.json()["status"]
    # Capture Images Pending lasts 1 business day (Mon-Fri).
    since = datetime.fromisoformat(status["since"])
    due = datetime.fromisoformat(status["due_at"]).date()
    expected = since.date() + timedelta(days=1)
    while expected.weekday() >= 5:
        expected += timedelta(days=1)
    assert due == expected


async def test_a_duplicate_booking_event_creates_one_record_and_one_status_event(
    workflow: Workflow,
) -> None:
    envelope = workflow.envelope(booked("s2"), subject="s2")
    await workflow.deliver(envelope, envelope)
    await workflow.deliver(envelope)
    # Past the consumer group's ledger too: the document remembers the event it applied.
    await SessionService(workflow.context).session_scheduled(
        envelope.payload(SessionBooked), HandlerContext(envelope)
    )
    session = (await workflow.client.get("/workflow/sessions/s2")).json()
    assert session["version"] == 1
    history = (await workflow.client.get("/workflow/sessions/s2/history")).json()["history"]
    assert len(history) == 1
    events = await workflow.workflow_events("s2", 1)
    await asyncio.sleep(0.5)  # a second event, if any were written, would be out by now
    assert len([e for e in workflow.published if e.subject == "s2"]) == len(events) == 1


async def test_a_reschedule_that_arrives_before_its_booking_wins_over_the_older_booking(
    workflow: Workflow,
) -> None:
    t0 = datetime.now(UTC)
    moved_to = datetime(2027, 1, 5, 9, tzinfo=UTC)
    booking = workflow.envelope(booked("s3"), subject="s3", time=t0)
    move = workflow.envelope(
        rescheduled("s3", moved_to), subject="s3", time=t0 + timedelta(seconds=5)
    )
    await workflow.deliver(move)
    await workflow.deliver(booking)

    session = (await workflow.client.get("/workflow/sessions/s3")).json()
    assert datetime.fromisoformat(session["starts_at"]) == moved_to
    assert session["status"]["name"] == "Session Pending"
    assert session["version"] == 1

    later = datetime(2027, 2, 1, 9, tzinfo=UTC)
    await workflow.deliver(
        workflow.envelope(rescheduled("s3", later), subject="s3", time=t0 + timedelta(seconds=9))
    )
    session = (await workflow.client.get("/workflow/sessions/s3")).json()
    assert datetime.fromisoformat(session["starts_at"]) == later


async def test_a_cancelled_session_moves_to_its_cancelled_status_and_stays_there(
    workflow: Workflow,
) -> None:
    await book(workflow, "s4")
    cancel = workflow.envelope(
        SessionCancelled(session_id="s4", session_number="S-s4", reason="client ill"), subject="s4"
    )
    await workflow.deliver(cancel)
    await workflow.deliver(cancel)
    session = (await workflow.client.get("/workflow/sessions/s4")).json()
    assert session["status"]["name"] == "Session Cancelled"
    assert session["cancelled"] is True
    assert session["closed"] is True
    assert session["version"] == 2
    events = await workflow.workflow_events("s4", 2)
    assert events[1].payload(SessionStatusChanged).note == "client ill"

    refused = await workflow.client.post("/workflow/sessions/s4/status", json={})
    assert refused.status_code == 409


async def test_a_cancellation_that_arrives_before_its_booking_leaves_the_session_cancelled(
    workflow: Workflow,
) -> None:
    cancel = workflow.envelope(
        SessionCancelled(session_id="s5", session_number="S-s5", reason="double booking"),
        subject="s5",
    )
    await workflow.deliver(cancel)
    assert (await workflow.client.get("/workflow/sessions/s5")).status_code == 404
    await book(workflow, "s5")
    session = (await workflow.client.get("/workflow/sessions/s5")).json()
    assert session["status"]["name"] == "Session Cancelled"
    assert session["cancelled"] is True


async def test_a_session_reopened_by_the_studio_gets_its_previous_status_back_with_who_and_why(
    workflow: Workflow,
) -> None:
    await book(workflow, "s-reopen")
    advanced = await workflow.client.post(
        "/workflow/sessions/s-reopen/status", json={}, headers={"X-User-Id": "amy"}
    )
    assert advanced.json()["status"]["name"] == "Capture Images Pending"
    await workflow.deliver(
        workflow.envelope(
            SessionCancelled(session_id="s-reopen", session_number="S-s-reopen", reason="typo"),
            subject="s-reopen",
        )
    )
    assert (await workflow.client.get("/workflow/sessions/s-reopen")).json()["cancelled"] is True
    reopened = workflow.envelope(
        SessionBooked.model_validate(
            {
                **booked("s-reopen").model_dump(),
                "reopened_by": "owner-olga",
                "reopen_reason": "cancelled the wrong session",
            }
        ),
        subject="s-reopen",
    )
    await workflow.deliver(reopened)
    await workflow.deliver(reopened)  # delivered twice: reopened once

    session = (await workflow.client.get("/workflow/sessions/s-reopen")).json()
    assert session["status"]["name"] == "Capture Images Pending"
    assert (session["cancelled"], session["closed"]) == (False, False)
    history = (await workflow.client.get("/workflow/sessions/s-reopen/history")).json()["history"]
    last = history[-1]
    assert len(history) == 4
    assert (last["from_status_name"], last["to_status_name"]) == (
        "Session Cancelled",
        "Capture Images Pending",
    )
    assert last["changed_by"] == "owner-olga"
    assert last["result"] == "reopened"
    assert "cancelled the wrong session" in last["note"]
    events = await workflow.workflow_events("s-reopen", 4)
    assert events[3].payload(SessionStatusChanged).changed_by == "owner-olga"
    # It moves on from there as any session does.
    moved = await workflow.client.post("/workflow/sessions/s-reopen/status", json={})
    assert moved.json()["status"]["name"] == "Edits Pending"


async def test_a_plain_booking_event_for_a_cancelled_session_does_not_reopen_it(
    workflow: Workflow,
) -> None:
    await book(workflow, "s-stays")
    await workflow.deliver(
        workflow.envelope(
            SessionCancelled(session_id="s-stays", session_number="S-s-stays", reason="ill"),
            subject="s-stays",
        )
    )
    await book(workflow, "s-stays")  # e.g. a replay of the original booking event
    session = (await workflow.client.get("/workflow/sessions/s-stays")).json()
    assert (session["status"]["name"], session["cancelled"]) == ("Session Cancelled", True)
