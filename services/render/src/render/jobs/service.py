"""Render jobs: the triggers. Sessions render with proof profiles; invoices and production
orders with finals (as the seeds have it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kit.errors import NotFound, Unprocessable
from kit.mongo import Document
from render.context import RenderContext
from render.jobs.repository import JobRepository
from render.jobs.schemas import JobIn, JobOut
from render.profiles.repository import ProfileRepository

PURPOSE_OF = {"session": "proof", "invoice": "final", "production_order": "final"}


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def job_out(document: Document) -> JobOut:
    fields = {k: v for k, v in document.items() if k != "_id"}
    return JobOut(id=document["_id"], **fields)


async def _check_profiles(ctx: RenderContext, request: JobIn) -> None:
    found = {p["_id"]: p for p in await ProfileRepository(ctx.db).get_many(request.profile_ids)}
    missing = [p for p in request.profile_ids if p not in found]
    if missing:
        raise Unprocessable(
            "A render job names profiles that do not exist.", detail={"missing": missing}
        )
    wanted = PURPOSE_OF[request.entity_kind]
    wrong = [p for p in request.profile_ids if found[p]["current"]["purpose"] != wanted]
    if wrong:
        raise Unprocessable(
            f"A {request.entity_kind} job renders with {wanted} profiles only.",
            detail={"profiles": wrong, "purpose": wanted},
        )


async def create_job(ctx: RenderContext, request: JobIn) -> JobOut:
    await _check_profiles(ctx, request)
    now = _now()
    document: Document = {
        "_id": f"job_{uuid.uuid4().hex[:16]}",
        **request.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }
    await JobRepository(ctx.db).insert(document)
    return job_out(document)


async def load_job(ctx: RenderContext, job_id: str) -> Document:
    document = await JobRepository(ctx.db).get(job_id)
    if document is None:
        raise NotFound(f"There is no render job {job_id}.", detail={"id": job_id})
    return document


async def list_jobs(ctx: RenderContext, limit: int) -> list[JobOut]:
    return [job_out(d) for d in await JobRepository(ctx.db).oldest_first(limit)]


async def edit_job(ctx: RenderContext, job_id: str, request: JobIn) -> JobOut:
    await load_job(ctx, job_id)
    await _check_profiles(ctx, request)
    if not await JobRepository(ctx.db).replace(job_id, request.model_dump(mode="json"), _now()):
        raise NotFound(f"There is no render job {job_id}.", detail={"id": job_id})
    return job_out(await load_job(ctx, job_id))


def matches(job: Document, to_status: str, to_status_name: str | None) -> bool:
    return bool(job["select_status"] in {to_status, to_status_name})


async def jobs_for(
    ctx: RenderContext, entity_kind: str, to_status: str, to_status_name: str | None
) -> list[Document]:
    jobs = await JobRepository(ctx.db).enabled_for(entity_kind)
    return [j for j in jobs if matches(j, to_status, to_status_name)]
