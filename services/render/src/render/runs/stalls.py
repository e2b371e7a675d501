"""Runs that stopped moving: asked again once, then failed with the reason.

A run is stalled when it is still `rendering` and no task of it was recorded for
`RENDER_RUN_STALL_SECONDS`: its task messages were lost (Kafka away while the relay published,
a topic reset), every worker died with the tasks in hand, or its closing write gave up. The
sweep, in the consumers process, closes a run whose tasks are all recorded; asks again the
unfinished renders of any other (its task messages are kept in the run for this; a worker skips
a task already recorded, so a render that was merely slow counts once); and fails a run that
stalls again after that, with `render.run.failed.v1` naming the stall, so its entity moves to
the job's error status instead of waiting for good. Every write is conditional on the run
still rendering, so several sweeping processes do each step once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from kit.app import Platform
from kit.events.contracts.render import RenderTaskPlanned
from kit.periodic import Periodic
from render.context import RenderContext, context_of
from render.runs.repository import RUNS, RunRepository
from render.runs.service import close_run, close_when_accounted, get_run

log = logging.getLogger(__name__)
SWEEPER_KEY = "render-run-stall-sweeper"


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"


async def sweep_stalled_runs(ctx: RenderContext, now: datetime | None = None) -> dict[str, int]:
    """One pass: what it did to how many runs (closed, asked again, failed)."""
    now = now or datetime.now(UTC)
    stall = ctx.settings.run_stall_seconds
    repository = RunRepository(ctx.db)
    counts = {"closed": 0, "asked_again": 0, "failed": 0}
    for run in await repository.stalled(now - timedelta(seconds=stall), limit=100):
        run_id = run["_id"]
        if run["done"] >= run["total"]:
            await close_when_accounted(ctx, run_id)
            counts["closed"] += 1
            continue
        finished = set(run.get("finished_tasks", []))
        unfinished = [t for t in run.get("tasks", []) if t["task_id"] not in finished]
        if run.get("redriven_at") is None and unfinished:
            messages = [
                ctx.event(RenderTaskPlanned.model_validate(t), subject=t["task_id"])
                for t in unfinished
            ]
            if await repository.redrive(run_id, now, messages):
                ctx.events_written(RUNS, run_id)
                counts["asked_again"] += 1
                log.warning(
                    "render run %s made no progress for %s: its %d unfinished render(s) are "
                    "asked again",
                    run_id,
                    _duration(stall),
                    len(unfinished),
                    extra={"run_id": run_id},
                )
            continue
        reason = _stall_reason(stall, asked_again=run.get("redriven_at") is not None)
        if await close_run(ctx, await get_run(ctx, run_id), error=reason):
            counts["failed"] += 1
            log.warning("render run %s failed: %s", run_id, reason, extra={"run_id": run_id})
    return counts


def _stall_reason(stall: int, *, asked_again: bool) -> str:
    if asked_again:
        return (
            f"Rendering made no progress for {_duration(stall)}, even after its unfinished "
            "renders were asked again."
        )
    return f"Rendering made no progress for {_duration(stall)}."


async def start_stall_sweeper(platform: Platform) -> None:
    ctx = context_of(platform)

    async def sweep() -> None:
        await sweep_stalled_runs(ctx)

    sweeper = Periodic("render run stall sweep", sweep, ctx.settings.run_sweep_seconds)
    sweeper.start()
    platform.extras[SWEEPER_KEY] = sweeper


async def stop_stall_sweeper(platform: Platform) -> None:
    sweeper: Periodic | None = platform.extras.pop(SWEEPER_KEY, None)
    if sweeper is not None:
        await sweeper.stop()
