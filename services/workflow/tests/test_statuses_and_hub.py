"""Studios edit their pipelines; the hub shows where every session stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from workflow_harness import Workflow

from kit.events.contracts.booking import SessionBooked
from workflow.business_days import add_business_days


def booked(
    session_id: str, session_type_id: str, starts_at: datetime, photographer: str
) -> SessionBooked:
    return SessionBooked(
        session_id=session_id,
        session_number=f"S-{session_id}",
        client_id="client-1",
        session_type_id=session_type_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        resource_ids=[photographer, "studio-a"],
    )


async def book(workflow: Workflow, session_id: str, **kwargs: Any) -> None:
    kwargs.setdefault("session_type_id", "portrait")
    kwargs.setdefault("starts_at", datetime(2026, 12, 1, 10, tzinfo=UTC))
    kwargs.setdefault("photographer", "ann")
    await workflow.deliver(workflow.envelope(booked(session_id, **kwargs), subject=session_id))


def test_due_dates_count_only_the_studios_working_days() -> None:
    friday = datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert add_business_days(friday, 0, [0, 1, 2, 3, 4]).date().isoformat() == "2026-11-20"
    assert add_business_days(friday, 1, [0, 1, 2, 3, 4]).date().isoformat() == "2026-11-23"
    assert add_business_days(friday, 5, [0, 1, 2, 3, 4]).date().isoformat() == "2026-11-27"
    # A studio that works Tuesday to Saturday.
    assert add_business_days(friday, 1, [1, 2, 3, 4, 5]).date().isoformat() == "2026-11-21"
    assert add_business_days(friday, 2, [1, 2, 3, 4, 5]).date().isoformat() == "2026-11-24"


async def test_the_default_pipelines_are_seeded_in_sort_order(workflow: Workflow) -> None:
    sessions = (await workflow.client.get("/workflow/statuses", params={"kind": "session"})).json()
    assert sessions[0]["name"] == "Session Pending"
    assert sessions[0]["initial"] is True
    assert [s["sort_order"] for s in sessions] == sorted(s["sort_order"] for s in sessions)
    assert {s["stage"] for s in sessions} == {
        "capture",
        "present",
        "produce",
        "deliver",
        "archive",
        "delete",
    }
    orders = (
        await workflow.client.get("/workflow/statuses", params={"kind": "production_order"})
    ).json()
    assert [s["name"] for s in orders] == [
        "Order Entered",
        "Sent to Lab",
        "Received from Lab",
        "Ready for Pickup",
        "Delivered",
    ]


async def test_a_studio_adds_and_reorders_a_status_and_sessions_follow_the_new_order(
    workflow: Workflow,
) -> None:
    added = await workflow.client.post(
        "/workflow/statuses",
        json={
            "kind": "session",
            "name": "Proofing Pending",
            "sort_order": 35,
            "stage": "present",
            "duration_days": 2,
        },
    )
    assert added.status_code == 201, added.text
    await book(workflow, "p1")
    for _ in range(3):
        answer = await workflow.client.post("/workflow/sessions/p1/status", json={})
    assert answer.json()["status"]["name"] == "Proofing Pending"

    moved = await workflow.client.patch(
        f"/workflow/statuses/{added.json()['id']}", json={"sort_order": 5}
    )
    assert moved.json()["sort_order"] == 5
    statuses = (await workflow.client.get("/workflow/statuses", params={"kind": "session"})).json()
    assert statuses[0]["name"] == "Proofing Pending"


async def test_bad_status_definitions_are_refused_in_the_error_shape(workflow: Workflow) -> None:
    duplicate = await workflow.client.post(
        "/workflow/statuses",
        json={"kind": "session", "name": "edits pending", "sort_order": 1, "stage": "present"},
    )
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["message"]
    bad_stage = await workflow.client.post(
        "/workflow/statuses",
        json={"kind": "session", "name": "X", "sort_order": 1, "stage": "dance"},
    )
    assert bad_stage.status_code == 422
    assert bad_stage.json()["error"] == "validation_error"
    typed_invoice = await workflow.client.post(
        "/workflow/statuses",
        json={
            "kind": "invoice",
            "session_type_id": "wedding",
            "name": "X",
            "sort_order": 1,
            "stage": "present",
        },
    )
    assert typed_invoice.status_code == 422
    assert typed_invoice.json()["error"] == "unprocessable"
    missing = await workflow.client.patch("/workflow/statuses/nope", json={"name": "Y"})
    assert missing.status_code == 404
    nulled = await workflow.client.patch(
        "/workflow/statuses/default-session-01", json={"name": None}
    )
    assert nulled.status_code == 422
    negative = await workflow.client.patch(
        "/workflow/statuses/default-session-01", json={"duration_days": -1}
    )
    assert negative.status_code == 422


async def test_the_hub_groups_sessions_by_stage_and_status_with_overdue_ones_first(
    workflow: Workflow,
) -> None:
    await book(workflow, "h1")
    await book(workflow, "h2")
    await book(workflow, "h3", session_type_id="wedding", photographer="bob")
    await book(workflow, "h4", starts_at=datetime(2027, 3, 1, 10, tzinfo=UTC))
    for session_id in ("h1", "h2"):
        await workflow.client.post(f"/workflow/sessions/{session_id}/status", json={})
    # h2 has waited too long in Capture Images Pending.
    await workflow.db["session_workflows"].update_one(
        {"_id": "h2"}, {"$set": {"due_at": datetime.now(UTC) - timedelta(days=3)}}
    )

    hub = (await workflow.client.get("/workflow/hub")).json()
    assert hub["total"] == 4
    assert hub["overdue"] == 1
    capture = next(s for s in hub["stages"] if s["stage"] == "capture")
    assert capture["count"] == 4
    by_name = {s["name"]: s for s in capture["statuses"]}
    assert by_name["Session Pending"]["count"] == 2
    images = by_name["Capture Images Pending"]
    assert (images["count"], images["overdue"]) == (2, 1)
    assert [s["session_id"] for s in images["sessions"]] == ["h2", "h1"]
    assert images["sessions"][0]["status"]["overdue"] is True
    assert [s["stage"] for s in hub["stages"]] == [
        "capture",
        "present",
        "produce",
        "deliver",
        "archive",
        "delete",
    ]

    wedding = (
        await workflow.client.get("/workflow/hub", params={"session_type_id": "wedding"})
    ).json()
    assert wedding["total"] == 1
    bob = (await workflow.client.get("/workflow/hub", params={"photographer_id": "bob"})).json()
    assert bob["total"] == 1
    march = (
        await workflow.client.get(
            "/workflow/hub", params={"date_from": "2027-03-01", "date_to": "2027-03-31"}
        )
    ).json()
    assert march["total"] == 1

    overdue = (await workflow.client.get("/workflow/sessions", params={"overdue": "true"})).json()
    assert [s["session_id"] for s in overdue] == ["h2"]


async def test_the_hub_refuses_bad_filters(workflow: Workflow) -> None:
    backwards = await workflow.client.get(
        "/workflow/hub", params={"date_from": "2027-03-31", "date_to": "2027-03-01"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"] == "unprocessable"
    not_a_date = await workflow.client.get("/workflow/hub", params={"date_from": "soon"})
    assert not_a_date.status_code == 422
    too_many = await workflow.client.get("/workflow/hub", params={"per_status": 10_000})
    assert too_many.status_code == 422
