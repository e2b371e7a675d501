"""Render runs: planned from a job (by a status change or by hand), rendered image by image by
any number of workers, closed once with `render.run.completed.v1` or `render.run.failed.v1`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import posixpath
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import PIL
from botocore.exceptions import ClientError
from PIL import features

from kit.errors import NotFound, Unprocessable
from kit.events.contracts.render import (
    ImageFailure,
    RenderOutput,
    RenderTaskPlanned,
    RunCompleted,
    RunFailed,
)
from kit.events.contracts.workflow import StatusChange
from kit.mongo import Document
from render.context import RenderContext
from render.imaging.pipeline import Rendered, SourceImageError, open_source, output_name, render
from render.imaging.specs import Recipe, RenderSpec
from render.imaging.watermarks import MarkImage, WatermarkImageError, fetch_mark_image
from render.jobs.service import jobs_for, load_job
from render.profiles.repository import ProfileRepository
from render.runs.render_sets import (
    RenderSet,
    RenderSetMissing,
    fetch_render_set,
    of_keys,
    recipe_for,
)
from render.runs.repository import RUNS, OutputRepository, RunRepository
from render.runs.schemas import PlannedRender, RunOut, RunPlanOut, RunRequest

log = logging.getLogger(__name__)

# One run's task messages ride in its document's outbox; this keeps that document well inside
# the 16 MB a document may have.
MAX_TASKS = 5000

LIBRARIES = {
    "pillow": PIL.__version__,
    "littlecms": features.version("littlecms2"),
    "libjpeg": features.version("jpg"),
    "libtiff": features.version("libtiff"),
}


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def run_out(document: Document) -> RunOut:
    return RunOut(
        id=document["_id"],
        job_id=document.get("job_id"),
        trigger=document["trigger"],
        entity_kind=document["entity_kind"],
        entity_id=document["entity_id"],
        session_id=document.get("session_id"),
        status=document["status"],
        total=document.get("total", 0),
        done=document.get("done", 0),
        reused=document.get("reused", 0),
        finish_status=document.get("finish_status"),
        error_status=document.get("error_status"),
        profiles=[{"id": p["id"], "version": p["version"]} for p in document["profiles"]],
        outputs=sorted(document.get("outputs", []), key=lambda o: o["task_id"]),
        failures=sorted(document.get("failures", []), key=lambda f: f["task_id"]),
        error=document.get("error"),
        manifest_key=document.get("manifest_key"),
        reference=document.get("reference"),
        created_at=document["created_at"],
        finished_at=document.get("finished_at"),
    )


async def get_run(ctx: RenderContext, run_id: str) -> Document:
    document = await RunRepository(ctx.db).get(run_id)
    if document is None:
        raise NotFound(f"There is no render run {run_id}.", detail={"id": run_id})
    return document


async def list_runs(ctx: RenderContext, session_id: str | None, limit: int) -> list[RunOut]:
    return [
        run_out(d) for d in await RunRepository(ctx.db).recent(session_id=session_id, limit=limit)
    ]


# Planning ---------------------------------------------------------------------------------


async def on_status_changed(ctx: RenderContext, event: StatusChange, event_id: str) -> list[str]:
    """One run per matching job, exactly once per (event, job): the run id is derived."""
    session_id = event.session_id or (event.entity_id if event.entity_kind == "session" else None)
    run_ids = []
    for job in await jobs_for(ctx, event.entity_kind, event.to_status, event.to_status_name):
        run_id = f"{event_id}:{job['_id']}"
        await start_run(
            ctx,
            run_id=run_id,
            job=job,
            trigger="status",
            entity_kind=event.entity_kind,
            entity_id=event.entity_id,
            session_id=session_id,
        )
        run_ids.append(run_id)
    return run_ids


async def start_manual_run(ctx: RenderContext, request: RunRequest) -> RunOut:
    """A job's run by hand, or an ad-hoc run through named profiles (contract B)."""
    job, planning = await _manual(ctx, request)
    run = await start_run(
        ctx,
        run_id=f"run_{uuid.uuid4().hex[:16]}",
        job=job,
        trigger="manual",
        reference=request.reference,
        **planning,
    )
    return run_out(run)


async def plan_manual_run(ctx: RenderContext, request: RunRequest) -> RunPlanOut:
    """What `start_manual_run` would render now, stored nowhere: the studio looks, changes the
    selection (`image_ids` or `keys`) and then starts the run."""
    job, planning = await _manual(ctx, request)
    plan = await plan_run(ctx, run_id="plan", job=job, **planning)
    return RunPlanOut(
        session_id=plan.session_id,
        problem=plan.problem,
        renders=[
            PlannedRender(
                image_id=t["image_id"],
                key=t["key"],
                name=t["image_label"],
                profile_id=t["profile"]["id"],
                profile_version=t["profile"]["version"],
                line_id=t["line_id"],
                product=t["product"],
                recipe=t["recipe"],
            )
            for t in plan.tasks
        ],
    )


async def _manual(ctx: RenderContext, request: RunRequest) -> tuple[Document, dict[str, Any]]:
    """The job (an ad-hoc one for `profile_ids`) and the planning arguments of a manual run."""
    recipes = {k: r.model_dump(mode="json") for k, r in request.recipes.items()}
    if request.profile_ids is not None:
        await _check_profiles_exist(ctx, request.profile_ids)
        adhoc: Document = {
            "_id": None,
            "profile_ids": request.profile_ids,
            "images": {"kind": "all", "folder": "hires"},
        }
        return adhoc, {
            "entity_kind": request.entity_kind,
            "entity_id": request.entity_id or request.session_id,
            "session_id": request.session_id,
            "only": Picked(request.keys, request.image_ids),
            "recipes": recipes,
        }
    assert request.job_id is not None
    assert request.entity_id is not None
    job = await load_job(ctx, request.job_id)
    if job["entity_kind"] != request.entity_kind:
        raise Unprocessable(
            f"Job {request.job_id} renders {job['entity_kind']}s, not {request.entity_kind}s.",
            detail={"job_entity_kind": job["entity_kind"]},
        )
    return job, {
        "entity_kind": request.entity_kind,
        "entity_id": request.entity_id,
        "session_id": request.session_id,
        "keys": request.keys,
        "only": Picked(image_ids=request.image_ids) if request.image_ids is not None else None,
        "recipes": recipes,
    }


async def _check_profiles_exist(ctx: RenderContext, profile_ids: list[str]) -> None:
    found = {p["_id"] for p in await ProfileRepository(ctx.db).get_many(profile_ids)}
    missing = [p for p in profile_ids if p not in found]
    if missing:
        raise Unprocessable(
            "The run names render profiles that do not exist.", detail={"missing": missing}
        )


@dataclass(frozen=True)
class Picked:
    """Of a session's render set, only these keys or image ids (None: every image)."""

    keys: list[str] | None = None
    image_ids: list[str] | None = None

    def of(self, render_set: RenderSet) -> RenderSet:
        """The picked items; picked keys workflow does not list are rendered as they are."""
        items = render_set.items
        if self.image_ids is not None:
            wanted = set(self.image_ids)
            items = [i for i in items if i.image_id in wanted]
        elif self.keys is not None:
            by_key = {i.key: i for i in items}
            bare = of_keys(self.keys, render_set.entity_kind, render_set.entity_id, "").items
            items = [by_key.get(b.key, b) for b in bare]
        return render_set.model_copy(update={"items": items})


@dataclass(frozen=True)
class Plan:
    """What a run would render: its tasks, or the problem that leaves nothing to render."""

    tasks: list[Document]
    profiles: list[Document]
    render_set: RenderSet | None
    session_id: str | None
    problem: str | None


async def plan_run(
    ctx: RenderContext,
    *,
    run_id: str,
    job: Document,
    entity_kind: str,
    entity_id: str,
    session_id: str | None,
    keys: list[str] | None = None,
    only: Picked | None = None,
    recipes: dict[str, Any] | None = None,
) -> Plan:
    """The run's images (workflow's render set, or the keys given) times the job's profiles."""
    profiles = await ProfileRepository(ctx.db).get_many(job["profile_ids"])
    by_id = {p["_id"]: p for p in profiles}
    pinned = [
        {"id": pid, "version": by_id[pid]["version"], "content": by_id[pid]["current"]}
        for pid in job["profile_ids"]
        if pid in by_id
    ]
    problem = None
    render_set: RenderSet | None = None
    if session_id is None and job["images"]["kind"] != "ordered":
        problem = "the entity has no session, so there are no images to render"
    elif len(pinned) != len(job["profile_ids"]):
        problem = "a profile of the job no longer exists"
    else:
        try:
            if keys is not None:
                render_set = of_keys(keys, entity_kind, entity_id, session_id or "")
            else:
                render_set = await fetch_render_set(
                    ctx, job["images"], entity_kind, entity_id, session_id or ""
                )
        except RenderSetMissing as exc:
            if only is None or only.keys is None:
                problem = str(exc)
            else:  # keys named outright render even when workflow does not know the session
                render_set = of_keys([], entity_kind, entity_id, session_id or "")
        if render_set is not None and only is not None:
            render_set = only.of(render_set)
    if render_set is not None:
        session_id = session_id or render_set.session_id or None
        if not render_set.items:
            problem = "no images to render"
    tasks = (
        []
        if problem is not None or render_set is None
        else plan_tasks(
            run_id, session_id or "", render_set, pinned, job.get("crop_name"), recipes or {}
        )
    )
    if len(tasks) > MAX_TASKS:
        problem = f"the run would make {len(tasks)} renders, more than {MAX_TASKS} in one run"
        tasks = []
    return Plan(tasks, pinned, render_set, session_id, problem)


async def start_run(
    ctx: RenderContext,
    *,
    run_id: str,
    job: Document,
    trigger: str,
    entity_kind: str,
    entity_id: str,
    session_id: str | None,
    keys: list[str] | None = None,
    only: Picked | None = None,
    recipes: dict[str, Any] | None = None,
    reference: str | None = None,
) -> Document:
    """Plan the run (its images from workflow's render set), then store it and its task
    messages in one write; the relay puts them on `render.tasks` for the workers.

    Idempotent on the run id: a redelivered status event finds the run and changes nothing.
    """
    repository = RunRepository(ctx.db)
    existing = await repository.get(run_id)
    if existing is not None:
        return existing
    plan = await plan_run(
        ctx,
        run_id=run_id,
        job=job,
        entity_kind=entity_kind,
        entity_id=entity_id,
        session_id=session_id,
        keys=keys,
        only=only,
        recipes=recipes,
    )
    tasks, pinned, render_set, session_id, problem = (
        plan.tasks,
        plan.profiles,
        plan.render_set,
        plan.session_id,
        plan.problem,
    )
    reused = await _reused_outputs(ctx, tasks, pinned)
    now = _now()
    deliver = any(p["content"].get("deliver") for p in pinned)
    expiry = [p["content"]["link_expiry_days"] for p in pinned if p["content"].get("deliver")]
    done = {r["task_id"] for r in reused}
    messages = [ctx.event(task_message(t), subject=t["_id"]) for t in tasks if t["_id"] not in done]
    inserted = await repository.insert(
        {
            "_id": run_id,
            "job_id": job["_id"],
            "trigger": trigger,
            "reference": reference,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "session_id": session_id,
            "session_number": render_set.session_number if render_set else None,
            "finish_status": job.get("finish_status"),
            "error_status": job.get("error_status"),
            "deliver": deliver,
            "link_expiry_days": next((e for e in expiry if e is not None), None),
            "profiles": pinned,
            "status": "rendering",
            "total": len(tasks),
            "done": len(reused),
            "reused": len(reused),
            "finished_tasks": [r["task_id"] for r in reused],
            "outputs": reused,
            "failures": [],
            # The task messages again, for the stall sweep to ask a stalled run's renders again.
            "tasks": [m.data for m in messages],
            "created_at": now,
            "started_at": now,
            "progressed_at": now,
        },
        messages,
    )
    if inserted and messages:
        ctx.events_written(RUNS, run_id)
    run = await get_run(ctx, run_id)
    if inserted and (problem is not None or len(done) == len(tasks)):
        await close_run(ctx, run, error=problem)  # nothing to render, or all done before
        run = await get_run(ctx, run_id)
    return run


async def _reused_outputs(
    ctx: RenderContext, tasks: list[Document], profiles: list[Document]
) -> list[dict[str, Any]]:
    """Outputs rendered before for tasks whose source SHA-256 workflow told us: an unchanged
    re-run renders nothing again, a changed recipe re-renders only its images."""
    by_id = {p["id"]: p for p in profiles}
    prints = {
        fingerprint(t, by_id[t["profile"]["id"]], t["sha256"]): t for t in tasks if t.get("sha256")
    }
    earlier = await OutputRepository(ctx.db).get_many(list(prints))
    return [
        reused_result(prints[e["_id"]], by_id[prints[e["_id"]]["profile"]["id"]], e)
        for e in earlier
    ]


def plan_tasks(
    run_id: str,
    session_id: str,
    render_set: RenderSet,
    profiles: list[Document],
    crop_name: str | None,
    recipes: dict[str, Any],
) -> list[Document]:
    """One task per (item, profile): what to render from, with which recipe, named how.

    Items that would render identically (the same image ordered twice without crops) collapse
    into one task; items of one image rendered differently get numbered names.
    """
    tasks: dict[str, Document] = {}
    names: dict[tuple[str, str], int] = {}
    for item in render_set.items:
        label = posixpath.splitext(posixpath.basename(item.original_key or item.key))[0]
        for profile in profiles:
            content = profile["content"]
            recipe = recipes.get(item.key)
            if recipe is None:
                chosen = recipe_for(item, crop_name or content.get("crop_name"))
                recipe = chosen.model_dump(mode="json") if chosen is not None else None
            identity = json.dumps([item.key, recipe, profile["id"]], sort_keys=True)
            the_id = task_id(run_id, identity)
            if the_id in tasks:
                continue
            seen = names.get((label, profile["id"]), 0) + 1
            names[(label, profile["id"])] = seen
            product = item.line.product_name if item.line is not None else None
            tasks[the_id] = {
                "_id": the_id,
                "run_id": run_id,
                "session_id": session_id,
                "key": item.key,
                "image_id": item.image_id,
                "image_label": label if seen == 1 else f"{label}-{seen}",
                "sha256": item.sha256,
                "line_id": item.line.line_id if item.line is not None else None,
                "product": product or content.get("product", ""),
                "profile": profile,
                "recipe": recipe,
            }
    return list(tasks.values())


def task_message(task: Document) -> RenderTaskPlanned:
    return RenderTaskPlanned(
        run_id=task["run_id"],
        task_id=task["_id"],
        session_id=task["session_id"],
        key=task["key"],
        image_id=task["image_id"],
        image_label=task["image_label"],
        sha256=task["sha256"],
        line_id=task["line_id"],
        product=task["product"],
        profile_id=task["profile"]["id"],
        profile_version=task["profile"]["version"],
        recipe=task["recipe"],
    )


def task_of(message: RenderTaskPlanned) -> Document:
    """A task message as the task document the rendering code reads."""
    fields = message.model_dump(mode="json")
    return {"_id": fields.pop("task_id"), **fields}


def task_id(run_id: str, identity: str) -> str:
    """Derived from what the task renders, so planning the same run again gives the same ids."""
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    return f"{run_id}:{digest}"


# Rendering (the worker) -------------------------------------------------------------------


def _spec_of(content: dict[str, Any]) -> RenderSpec:
    return RenderSpec.model_validate({k: content[k] for k in RenderSpec.model_fields})


def _render_task(
    source: bytes,
    content: dict[str, Any],
    recipe: Document | None,
    memory_mb: int | None,
    mark: MarkImage | None = None,
) -> Rendered:
    if memory_mb is not None:
        refuse_over_cap(source, memory_mb)
    spec = _spec_of(content)
    return render(source, spec, Recipe.model_validate(recipe) if recipe else None, mark)


def refuse_over_cap(source: bytes, memory_mb: int) -> None:
    """SourceImageError when the image's decoded pixels alone would pass the memory cap."""
    image = open_source(source)
    try:
        width, height = image.size
        decoded_mb = width * height * len(image.getbands()) / 2**20
    finally:
        image.close()
    if decoded_mb > memory_mb:
        raise SourceImageError(
            f"the image ({width}x{height}) decodes to {decoded_mb:.0f} MB, over the render "
            f"worker's memory cap of {memory_mb} MB"
        )


def output_key(task: Document, content: dict[str, Any]) -> str:
    """Where a task's output goes: the run's folder, named by the profile's template."""
    name = output_name(
        _spec_of(content),
        session=task["session_id"],
        image=task.get("image_label") or task["image_id"],
        profile=content["name"].replace("/", "-").replace(" ", "-"),
        product=(task.get("product") or "").replace("/", "-"),
    )
    return f"sessions/{task['session_id']}/rendered/{task['run_id']}/{name}"


def fingerprint(
    task: Document, profile: Document, source_sha256: str, mark_etag: str | None = None
) -> str:
    """What makes an output what it is: the source's bytes, the recipe applied, the profile
    version and the output's name (and the watermark image's ETag, when the profile has one).
    The same fingerprint is the same file: not rendered again."""
    name = posixpath.basename(output_key(task, profile["content"]))
    identity = [source_sha256, task.get("recipe"), profile["id"], profile["version"], name]
    if mark_etag is not None:
        identity.append(mark_etag)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _base_result(task: Document, profile: Document, worker: str) -> dict[str, Any]:
    return {
        "task_id": task["_id"],
        "image_id": task["image_id"],
        "source_key": task["key"],
        "profile_id": profile["id"],
        "profile_version": profile["version"],
        "recipe_version": (task.get("recipe") or {}).get("version"),
        "rendered_by": worker,
    }


def reused_result(task: Document, profile: Document, earlier: Document) -> dict[str, Any]:
    """An earlier identical output recorded for this task (nothing rendered)."""
    base = _base_result(task, profile, earlier["rendered_by"])
    fields = ("source_sha256", "key", "sha256", "bytes", "width", "height", "dpi")
    return {**base, **{f: earlier[f] for f in fields}, "reused_from": earlier["run_id"]}


async def render_result(
    ctx: RenderContext, task: Document, profile: Document, worker: str
) -> tuple[str, dict[str, Any]]:
    """Render one task (or find its identical earlier output): ("outputs" | "failures", entry)."""
    content = profile["content"]
    base = _base_result(task, profile, worker)
    try:
        source = await ctx.storage.get_bytes(ctx.bucket, task["key"])
    except ClientError as exc:
        return "failures", {**base, "reason": f"the source could not be read: {exc}"}
    base["source_sha256"] = hashlib.sha256(source).hexdigest()
    watermark = _spec_of(content).watermark
    mark = None
    if watermark is not None and watermark.image_key is not None:
        try:  # fetched once per key and ETag, per process
            mark = await fetch_mark_image(ctx.storage, ctx.bucket, watermark.image_key)
        except WatermarkImageError as exc:
            return "failures", {**base, "reason": str(exc)}
    outputs = OutputRepository(ctx.db)
    print_id = fingerprint(task, profile, base["source_sha256"], mark.etag if mark else None)
    earlier = await outputs.get(print_id)
    if earlier is not None and await ctx.storage.exists(ctx.bucket, earlier["key"]):
        return "outputs", reused_result(task, profile, earlier)
    try:
        rendered = await asyncio.to_thread(
            _render_task, source, content, task.get("recipe"), ctx.settings.worker_memory_mb, mark
        )
    except SourceImageError as exc:
        return "failures", {**base, "reason": str(exc)}
    key = output_key(task, content)
    await ctx.storage.put(ctx.bucket, key, rendered.body, content_type=rendered.content_type)
    result = {
        **base,
        "key": key,
        "sha256": hashlib.sha256(rendered.body).hexdigest(),
        "bytes": len(rendered.body),
        "width": rendered.width,
        "height": rendered.height,
        "dpi": rendered.dpi,
    }
    await outputs.remember(print_id, {**result, "run_id": task["run_id"], "created_at": _now()})
    return "outputs", result


async def execute_task(ctx: RenderContext, message: RenderTaskPlanned, worker: str) -> None:
    """Render one task of a run, record it in the run (once), and close the run when every
    task is accounted for. Safe to run again for the same task (a redelivery)."""
    repository = RunRepository(ctx.db)
    run = await repository.progress(message.run_id)
    if run is None:
        log.warning("a render task of an unknown run %s; skipped", message.run_id)
        return
    if run["status"] == "rendering" and not await repository.recorded(
        message.run_id, message.task_id
    ):
        profile = next(
            (
                p
                for p in run["profiles"]
                if (p["id"], p["version"]) == (message.profile_id, message.profile_version)
            ),
            None,
        )
        task = task_of(message)
        if profile is None:  # cannot happen for tasks planned by this code; say so if it does
            field, result = (
                "failures",
                {
                    **_base_result(task, {"id": message.profile_id, "version": 0}, worker),
                    "reason": f"the run has no profile {message.profile_id} "
                    f"version {message.profile_version}",
                },
            )
        else:
            field, result = await render_result(ctx, task, profile, worker)
        await repository.record_result(message.run_id, message.task_id, field, result)
    await close_when_accounted(ctx, message.run_id)


async def record_given_up_task(
    ctx: RenderContext, message: RenderTaskPlanned, reason: str, worker: str
) -> None:
    """A task the render workers gave up on (kit dead-lettered it after its attempts: S3 away
    while writing the output, a bug...) becomes a failed image of its run, with `reason`,
    through the same once-per-task record as a rendered one; the run then closes when every
    task is accounted for. A task recorded before (its redelivery rendered after all) stays as
    it was; a run that only failed to close (its last task recorded, the manifest write gave
    up) is closed now."""
    repository = RunRepository(ctx.db)
    run = await repository.progress(message.run_id)
    if run is None:
        log.warning("a given-up render task of an unknown run %s; skipped", message.run_id)
        return
    profile = {"id": message.profile_id, "version": message.profile_version}
    failure = {**_base_result(task_of(message), profile, worker), "reason": reason}
    if await repository.record_result(message.run_id, message.task_id, "failures", failure):
        log.warning(
            "render task %s given up: %s",
            message.task_id,
            reason,
            extra={"run_id": message.run_id, "task_id": message.task_id},
        )
    await close_when_accounted(ctx, message.run_id)


async def close_when_accounted(ctx: RenderContext, run_id: str) -> None:
    """Close the run if it is still rendering and every task is recorded (or reused)."""
    repository = RunRepository(ctx.db)
    run = await repository.progress(run_id)
    if run is not None and run["status"] == "rendering" and run["done"] >= run["total"]:
        full = await repository.get(run_id)
        if full is not None:
            await close_run(ctx, full)


async def close_run(ctx: RenderContext, run: Document, *, error: str | None = None) -> bool:
    """Write the manifest, then close the run with its event (only the first closer wins)."""
    outputs = sorted(run.get("outputs", []), key=lambda o: o["task_id"])
    failures = sorted(run.get("failures", []), key=lambda f: f["task_id"])
    manifest_key = None
    if run.get("session_id") is not None and (outputs or failures):
        manifest_key = f"sessions/{run['session_id']}/rendered/{run['_id']}/manifest.json"
        manifest = {
            "run_id": run["_id"],
            "job_id": run.get("job_id"),
            "libraries": LIBRARIES,
            "profiles": [{"id": p["id"], "version": p["version"]} for p in run["profiles"]],
            "outputs": outputs,
            "failures": failures,
        }
        body = json.dumps(manifest, indent=1, sort_keys=True, default=str).encode()
        await ctx.storage.put(ctx.bucket, manifest_key, body, content_type="application/json")
    refs = [
        RenderOutput(
            image_id=o["image_id"],
            profile_id=o["profile_id"],
            profile_version=o["profile_version"],
            key=o["key"],
            bytes=o["bytes"],
            width=o["width"],
            height=o["height"],
            dpi=o["dpi"],
        )
        for o in outputs
    ]
    common: dict[str, Any] = {
        "run_id": run["_id"],
        "job_id": run.get("job_id"),
        "entity_kind": run["entity_kind"],
        "entity_id": run["entity_id"],
        "session_id": run.get("session_id"),
        "manifest_key": manifest_key,
        "reference": run.get("reference"),
    }
    if failures and error is None:
        error = f"{len(failures)} of {len(failures) + len(outputs)} renders failed: " + "; ".join(
            f"{f['source_key']}: {f['reason']}" for f in failures[:5]
        )
    payload: RunCompleted | RunFailed
    if error is None:
        payload = RunCompleted(
            **common,
            finish_status=run.get("finish_status"),
            outputs=refs,
            deliver=run.get("deliver", False),
            link_expiry_days=run.get("link_expiry_days"),
        )
    else:
        payload = RunFailed(
            **common,
            error_status=run.get("error_status"),
            error=error[:2000],
            outputs=refs,
            failures=[
                ImageFailure(
                    image_id=f["image_id"],
                    key=f["source_key"],
                    reason=f["reason"],
                    profile_id=f["profile_id"],
                )
                for f in failures
            ],
        )
    closed = await RunRepository(ctx.db).finish_run(
        run["_id"],
        {
            "status": "completed" if error is None else "failed",
            "error": error,
            "manifest_key": manifest_key,
            "finished_at": _now(),
        },
        [ctx.event(payload, subject=run["_id"])],
    )
    if closed:
        ctx.events_written(RUNS, run["_id"])
    return closed
