"""Sessions' workflow: created and moved by booking's events, advanced by people."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kit.errors import Conflict, StudioError, Unprocessable
from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionCancelled, SessionRecord
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.sessions.repository import SessionRepository
from workflow.sessions.schemas import (
    BulkAdvanceRequest,
    BulkAdvanceResult,
    BulkFailure,
    SessionWorkflow,
)
from workflow.tracking.repository import projection_of
from workflow.tracking.schemas import StatusChangeRequest
from workflow.tracking.service import StatusChanger, current_status

log = logging.getLogger(__name__)
BOOKING = "booking"


def session_view(document: Document) -> SessionWorkflow:
    return SessionWorkflow(
        session_id=document["_id"],
        session_number=document.get("session_number", ""),
        client_id=document.get("client_id"),
        client_name=document.get("client_name"),
        session_type_id=document.get("session_type_id"),
        starts_at=document.get("starts_at"),
        ends_at=document.get("ends_at"),
        resource_ids=document.get("resource_ids", []),
        location=document.get("location"),
        cancelled=bool(document.get("cancelled")),
        closed=bool(document.get("closed")),
        version=document["version"],
        status=current_status(document),
        archived=document.get("archive") is not None,
        images_deleted=document.get("images_deleted_at") is not None,
    )


def _details(payload: SessionRecord) -> dict[str, Any]:
    details = {
        "session_number": payload.session_number,
        "client_id": payload.client_id,
        "session_type_id": payload.session_type_id,
        "starts_at": payload.starts_at,
        "ends_at": payload.ends_at,
        "resource_ids": payload.resource_ids,
        "location": payload.location,
    }
    # An event without the name (an older producer, a client since deleted) keeps the one known.
    if payload.client_name is not None:
        details["client_name"] = payload.client_name
    return details


class SessionService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._repository = SessionRepository(context.db)
        self._changer = StatusChanger(context, "session")

    async def get(self, session_id: str) -> SessionWorkflow:
        return session_view(await self._changer.load(session_id))

    async def history(self, session_id: str) -> list[Document]:
        return await self._changer.history(session_id)

    async def change_status(
        self, session_id: str, request: StatusChangeRequest, *, by: str
    ) -> SessionWorkflow:
        return session_view(await self._changer.change(session_id, request, by=by))

    async def bulk_advance(self, request: BulkAdvanceRequest, *, by: str) -> BulkAdvanceResult:
        """Each session on its own: successes are kept, each failure is named."""
        change = request.change_for_each()
        advanced: list[SessionWorkflow] = []
        failed: list[BulkFailure] = []
        for session_id in dict.fromkeys(request.session_ids):
            try:
                document = await self._changer.load(session_id)
                if document.get("session_type_id") != request.session_type_id:
                    raise Unprocessable(
                        f"Session {session_id} is of type {document.get('session_type_id')}, "
                        f"not {request.session_type_id}."
                    )
                advanced.append(session_view(await self._changer.change(session_id, change, by=by)))
            except StudioError as exc:
                failed.append(
                    BulkFailure(session_id=session_id, error=exc.code, message=exc.message)
                )
        return BulkAdvanceResult(advanced=advanced, failed=failed)

    # Booking's events -------------------------------------------------------------------

    async def session_scheduled(self, payload: SessionRecord, context: HandlerContext) -> None:
        """`booking.session.booked/rescheduled.v1`: create the record, or follow the move."""
        as_of = context.envelope.time
        for _ in range(3):
            document = await self._changer.repository.get(payload.session_id)
            if document is None:
                if await self._create(payload, context, as_of):
                    return
                continue  # created meanwhile by another event: apply as an update
            if document.get("status_id") is None:
                await self._open_cancelled(document, payload, context)
            elif document.get("cancelled") and payload.reopened_by is not None:
                await self._reopen(document, payload, context)
            await self._repository.set_booking_details(payload.session_id, _details(payload), as_of)
            return
        raise Conflict(f"Session {payload.session_id} kept changing while applying an event.")

    async def _create(
        self, payload: SessionRecord, context: HandlerContext, as_of: datetime
    ) -> bool:
        pipeline = await self._changer.statuses.pipeline("session", payload.session_type_id)
        snapshot = {
            "_id": payload.session_id,
            **_details(payload),
            "booking_as_of": as_of,
            "cancelled": False,
            "created_at": datetime.now(UTC),
        }
        fields = await self._changer.open(
            payload.session_id,
            pipeline.initial(),
            by=BOOKING,
            session_id=payload.session_id,
            session_type_id=payload.session_type_id,
            event_id=context.event_id,
            snapshot=snapshot,
        )
        if fields is None:
            # Opened before a crash (or by an earlier event): the log holds the status.
            latest = await self._changer.repository.latest_change(payload.session_id)
            if latest is None:
                return False
            fields = projection_of(latest)
        return await self._repository.insert({**snapshot, **fields})

    async def _reopen(
        self, document: Document, payload: SessionRecord, context: HandlerContext
    ) -> None:
        """Booking reinstated a session cancelled by mistake: back to the status it had when
        it was cancelled, the history naming who reopened it and why."""
        if await self._changer.repository.change_applying(
            payload.session_id, event_id=context.event_id
        ):
            return
        by = payload.reopened_by or BOOKING
        reason = payload.reopen_reason
        note = f"Reopened: {reason}" if reason else "Reopened."
        for _ in range(3):
            pipeline = await self._changer.pipeline_of(document)
            history = await self._changer.repository.history(payload.session_id)
            cancelling = next(
                (c for c in reversed(history) if c.get("result") == "cancelled"), None
            )
            previous_id = cancelling.get("from_status_id") if cancelling else None
            previous = None
            if previous_id:
                previous = pipeline.find(previous_id) or await self._changer.statuses.find(
                    previous_id
                )
            target = previous or pipeline.initial()
            written = await self._changer.apply(
                document,
                target,
                by=by,
                note=note,
                result="reopened",
                event_id=context.event_id,
                entity_fields={"cancelled": False, "cancel_reason": None},
            )
            if written is not None:
                return
            refreshed = await self._changer.repository.get(payload.session_id)
            if refreshed is None or not refreshed.get("cancelled"):
                return
            document = refreshed
        raise Conflict(f"Session {payload.session_id} kept changing while being reopened.")

    async def _open_cancelled(
        self, placeholder: Document, payload: SessionRecord, context: HandlerContext
    ) -> None:
        """The session was cancelled before its booking arrived: it starts out cancelled."""
        pipeline = await self._changer.statuses.pipeline("session", payload.session_type_id)
        status = pipeline.with_role("cancelled") or pipeline.initial()
        fields = await self._changer.open(
            payload.session_id,
            status,
            by=BOOKING,
            session_id=payload.session_id,
            session_type_id=payload.session_type_id,
            note=placeholder.get("cancel_reason"),
            event_id=context.event_id,
        )
        if fields is None:
            latest = await self._changer.repository.latest_change(payload.session_id)
            if latest is None:
                raise Conflict(f"Session {payload.session_id} has no first status yet.")
            fields = projection_of(latest)
        await self._changer.repository.project(payload.session_id, fields)

    async def session_cancelled(self, payload: SessionCancelled, context: HandlerContext) -> None:
        """`booking.session.cancelled.v1`: the session moves to its cancelled status."""
        for _ in range(3):
            document = await self._changer.repository.get(payload.session_id)
            if document is None:
                placeholder = {
                    "_id": payload.session_id,
                    "session_number": payload.session_number,
                    "status_id": None,
                    "version": 0,
                    "cancelled": True,
                    "cancel_reason": payload.reason,
                    "booking_as_of": None,
                    "created_at": datetime.now(UTC),
                }
                if await self._repository.insert(placeholder):
                    return
                continue
            if document.get("status_id") is None or document.get("closed"):
                log.info("session %s is already cancelled or closed", payload.session_id)
                return
            if await self._changer.repository.change_applying(
                payload.session_id, event_id=context.event_id
            ):
                return
            pipeline = await self._changer.pipeline_of(document)
            target = pipeline.with_role("cancelled")
            if target is None:
                raise Unprocessable(
                    f"The pipeline of session {payload.session_id} has no cancelled status."
                )
            written = await self._changer.apply(
                document,
                target,
                by=BOOKING,
                note=payload.reason,
                result="cancelled",
                event_id=context.event_id,
                entity_fields={"cancelled": True, "cancel_reason": payload.reason},
            )
            if written is not None:
                return
        raise Conflict(f"Session {payload.session_id} kept changing while being cancelled.")
