"""Routes for render runs: start one by hand, follow its progress and outputs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from render.context import ContextDep
from render.runs import service
from render.runs.schemas import RunOut, RunPlanOut, RunRequest

router = APIRouter(prefix="/runs", tags=["runs"])


# The job named by `job_id` is looked up first: none with that id is a 404.
NO_SUCH_JOB: dict[int | str, dict[str, Any]] = {404: {"description": "No render job has job_id"}}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RunOut, responses=NO_SUCH_JOB)
async def start_run(ctx: ContextDep, request: RunRequest) -> RunOut:
    """Run a job by hand (e.g. render proofs for a session), optionally on chosen image keys
    with their edit recipes. Render workers pick it up; follow it with GET /runs/{id}."""
    return await service.start_manual_run(ctx, request)


@router.post("/plan", response_model=RunPlanOut, responses=NO_SUCH_JOB)
async def plan_run(ctx: ContextDep, request: RunRequest) -> RunPlanOut:
    """What `POST /runs` with this body would render now (e.g. an invoice's ordered images with
    their line crops), without starting anything: change the selection with `image_ids` or
    `keys`, then start it."""
    return await service.plan_manual_run(ctx, request)


@router.get("", response_model=list[RunOut])
async def list_runs(
    ctx: ContextDep,
    session_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RunOut]:
    """Runs, newest first, optionally of one session."""
    return await service.list_runs(ctx, session_id, limit)


@router.get("/{run_id}", response_model=RunOut)
async def read_run(ctx: ContextDep, run_id: str) -> RunOut:
    """A run's progress (`done` of `total`), its outputs and failures, and its manifest key."""
    return service.run_out(await service.get_run(ctx, run_id))
