"""A run that stops moving (its task messages lost, its workers gone) is not left rendering for
good: the consumers' sweep asks its unfinished renders again once, and fails it with the stall
as its reason when it stalls again, so the entity moves to the job's error status; a run whose
renders were all recorded but that never closed is closed; a moving run is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kit.events.contracts.render import TASKS_TOPIC
from kit.testing import eventually, read_topic
from render.runs.stalls import sweep_stalled_runs

NOTHING = {"closed": 0, "asked_again": 0, "failed": 0}


async def test_a_stalled_run_is_asked_again_once_then_failed_with_the_stall_as_its_reason(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        photos = [make_photo(1200, 800, seed=i) for i in range(2)]
        await service.workflow.session_with_photos(session, photos)
        proof = await service.profile()
        job = await service.job(
            name="Proofs",
            entity_kind="session",
            select_status="x",
            profile_ids=[proof["id"]],
            finish_status="Presentation Ready",
            error_status="Proofs Failed",
        )
        # No worker runs: nothing of this run is ever rendered.
        answer = await service.http.post(
            "/runs", json={"job_id": job["id"], "entity_id": session, "session_id": session}
        )
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["id"]
        ctx = service.ctx
        stall = ctx.settings.run_stall_seconds
        tasks_topic = ctx.settings.infra.topic_prefix + TASKS_TOPIC

        moving = await sweep_stalled_runs(ctx)
        stalled_at = datetime.now(UTC) + timedelta(seconds=stall + 1)
        asked = await sweep_stalled_runs(ctx, now=stalled_at)
        once = await sweep_stalled_runs(ctx, now=stalled_at)

        async def asked_twice() -> bool:
            records = await read_topic(
                ctx.settings.infra.kafka_bootstrap, tasks_topic, 4, timeout=5
            )
            return len([r for r in records if r.key.decode().startswith(run_id)]) == 4

        await eventually(asked_twice, timeout=30, what="each render's task message twice")
        again = datetime.now(UTC) + timedelta(seconds=2 * stall + 2)
        failed = await sweep_stalled_runs(ctx, now=again)
        after = await sweep_stalled_runs(ctx, now=again)
        run = (await service.http.get(f"/runs/{run_id}")).json()
        events = await service.events(run_id, "render.run.failed.v1")

    assert moving == NOTHING
    assert asked == {**NOTHING, "asked_again": 1}
    assert once == NOTHING  # asking again restarts its clock
    assert failed == {**NOTHING, "failed": 1}
    assert after == NOTHING
    assert run["status"] == "failed"
    minutes = f"{stall // 60} min" if stall >= 120 else f"{stall} s"
    assert run["error"] == (
        f"Rendering made no progress for {minutes}, even after its unfinished renders were "
        "asked again."
    )
    assert (run["done"], run["total"]) == (0, 2)
    [event] = events
    assert event["data"]["error_status"] == "Proofs Failed"
    assert event["data"]["error"] == run["error"]
