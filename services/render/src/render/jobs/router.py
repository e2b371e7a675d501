"""Routes for render jobs: the status-fired triggers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from render.context import ContextDep
from render.jobs import service
from render.jobs.schemas import JobIn, JobOut

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=JobOut)
async def create_job(ctx: ContextDep, request: JobIn) -> JobOut:
    """A render job: when an entity of `entity_kind` reaches `select_status`, its images are
    rendered with `profile_ids`, and the run carries `finish_status` or `error_status`."""
    return await service.create_job(ctx, request)


@router.get("", response_model=list[JobOut])
async def list_jobs(
    ctx: ContextDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> list[JobOut]:
    """Every render job, oldest first."""
    return await service.list_jobs(ctx, limit)


@router.get("/{job_id}", response_model=JobOut)
async def read_job(ctx: ContextDep, job_id: str) -> JobOut:
    """One render job."""
    return service.job_out(await service.load_job(ctx, job_id))


@router.put("/{job_id}", response_model=JobOut)
async def edit_job(ctx: ContextDep, job_id: str, request: JobIn) -> JobOut:
    """Replace a render job (runs already started keep what they were given)."""
    return await service.edit_job(ctx, job_id, request)
