"""A crash between a change and its projection loses nothing; the consumer hears every event
the workflow needs."""

from __future__ import annotations

from workflow_harness import Workflow

from kit.events.contracts import booking, render
from workflow.consumers import TOPICS, subscriptions
from workflow.tracking.service import StatusChanger


async def test_an_entity_whose_insert_was_lost_after_its_first_change_is_rebuilt(
    workflow: Workflow,
) -> None:
    changer = StatusChanger(workflow.context, "session")
    pipeline = await changer.statuses.pipeline("session")
    # The process "dies" after the change (and its event) was written, before the entity was.
    fields = await changer.open(
        "lost-1",
        pipeline.initial(),
        by="booking",
        session_id="lost-1",
        session_type_id="portrait",
        snapshot={"_id": "lost-1", "session_number": "S-9", "session_type_id": "portrait"},
    )
    assert fields is not None
    session = await workflow.client.get("/workflow/sessions/lost-1")
    assert session.status_code == 200, session.text
    assert (session.json()["session_number"], session.json()["status"]["name"]) == (
        "S-9",
        "Session Pending",
    )


async def test_a_projection_that_lags_its_change_log_is_repaired_on_read(
    workflow: Workflow,
) -> None:
    changer = StatusChanger(workflow.context, "session")
    pipeline = await changer.statuses.pipeline("session")
    snapshot = {"_id": "lag-1", "session_number": "S-10", "session_type_id": "portrait"}
    fields = await changer.open(
        "lag-1",
        pipeline.initial(),
        by="booking",
        session_id="lag-1",
        session_type_id="portrait",
        snapshot=snapshot,
    )
    assert fields is not None
    await workflow.db["session_workflows"].insert_one({**snapshot, **fields})
    moved = await workflow.client.post("/workflow/sessions/lag-1/status", json={})
    assert moved.json()["version"] == 2
    # A concurrent write that was lost puts the entity back at version 1 (as FerretDB can).
    await workflow.db["session_workflows"].update_one({"_id": "lag-1"}, {"$set": fields})
    session = (await workflow.client.get("/workflow/sessions/lag-1")).json()
    assert (session["version"], session["status"]["name"]) == (2, "Capture Images Pending")


def test_the_consumer_process_subscribes_to_booking_and_render_events(
    workflow: Workflow,
) -> None:
    handled = {s.contract for s in subscriptions(workflow.platform)}
    assert handled == {
        booking.SessionBooked,
        booking.SessionRescheduled,
        booking.SessionCancelled,
        booking.PaymentSucceeded,
        booking.PaymentFailed,
        booking.PaymentRefunded,
        render.RunCompleted,
        render.RunFailed,
        render.PreviewsCreated,
    }
    assert set(TOPICS) == {booking.TOPIC, render.TOPIC}
