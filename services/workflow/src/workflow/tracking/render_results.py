"""Render results move the rendered entity to the job's finish or error status, once per run."""

from __future__ import annotations

import logging

from kit.errors import Conflict, Unprocessable
from kit.events.consumer import HandlerContext
from kit.events.contracts.render import RunCompleted, RunFailed, RunFinished
from workflow.context import WorkflowContext
from workflow.lab.shipments import lab_render_completed
from workflow.tracking.service import StatusChanger

log = logging.getLogger(__name__)


class RenderResults:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context

    async def run_completed(self, payload: RunCompleted, context: HandlerContext) -> None:
        if payload.entity_kind == "production_order":
            # The order's files for its lab: what a shipment sends.
            await lab_render_completed(
                self._context,
                payload.entity_id,
                payload.run_id,
                [o.model_dump() for o in payload.outputs],
                payload.manifest_key,
            )
        await self._move(
            payload, payload.finish_status, f"render run {payload.run_id} completed", context
        )

    async def run_failed(self, payload: RunFailed, context: HandlerContext) -> None:
        await self._move(
            payload,
            payload.error_status,
            f"render run {payload.run_id} failed: {payload.error}"[:500],
            context,
        )

    async def _move(
        self, payload: RunFinished, status: str | None, result: str, context: HandlerContext
    ) -> None:
        if status is None:
            return  # the job names no status to move to
        changer = StatusChanger(self._context, payload.entity_kind)
        for _ in range(3):
            document = await changer.load(payload.entity_id)
            if await changer.repository.change_applying(payload.entity_id, run_id=payload.run_id):
                return
            if document.get("closed"):
                log.warning(
                    "%s %s is closed; render run %s does not move it",
                    payload.entity_kind,
                    payload.entity_id,
                    payload.run_id,
                )
                return
            pipeline = await changer.pipeline_of(document)
            target = pipeline.find(status) or pipeline.named(status)
            if target is None or not target.active:
                raise Unprocessable(
                    f"Render run {payload.run_id} names status {status!r}, which the "
                    f"{payload.entity_kind}'s pipeline does not have (or has retired)."
                )
            if target.id == document["status_id"]:
                return
            written = await changer.apply(
                document,
                target,
                by="render",
                result=result,
                event_id=context.event_id,
                run_id=payload.run_id,
            )
            if written is not None:
                return
        raise Conflict(f"{payload.entity_kind} {payload.entity_id} kept changing.")
