"""The one way a tracked entity's status changes: validated, versioned, recorded, announced.

Each change records from, to, when it completed, the new due date, who, a note and a result;
it is one inserted document of the status-change log (the entity's history) carrying its
`workflow.<kind>.status_changed.v1` event. The insert's key is the version the change
creates, so of two changes computed from the same version one wins and the other answers 409.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from kit.errors import Conflict, InvalidTransition, NotFound, Unprocessable
from kit.events.contracts import workflow as contracts
from kit.events.contracts.workflow import EntityKind
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from workflow.business_days import add_business_days, start_of_day
from workflow.context import WorkflowContext
from workflow.statuses.schemas import StatusDefinition
from workflow.statuses.service import Pipeline, StatusService
from workflow.tracking.repository import CHANGES, TrackedRepository, change_id, projection_of
from workflow.tracking.schemas import CurrentStatus, StatusChangeRequest

EVENTS: dict[EntityKind, type[contracts.StatusChange]] = {
    "session": contracts.SessionStatusChanged,
    "invoice": contracts.InvoiceStatusChanged,
    "production_order": contracts.ProductionOrderStatusChanged,
}
LABELS: dict[EntityKind, str] = {
    "session": "Session",
    "invoice": "Invoice",
    "production_order": "Production order",
}


class StatusChanger:
    def __init__(self, context: WorkflowContext, kind: EntityKind) -> None:
        self._context = context
        self.kind = kind
        self.repository = TrackedRepository(context.db, kind)
        self.statuses = StatusService(context.db)

    async def load(self, entity_id: str) -> Document:
        document = await self.repository.get(entity_id)
        if document is None or document.get("status_id") is None:
            raise NotFound(
                f"{LABELS[self.kind]} {entity_id} has no workflow record.",
                detail={"kind": self.kind, "id": entity_id},
            )
        return document

    async def pipeline_of(self, document: Document) -> Pipeline:
        return await self.statuses.pipeline(self.kind, document.get("session_type_id"))

    async def history(self, entity_id: str) -> list[Document]:
        await self.load(entity_id)
        return await self.repository.history(entity_id)

    async def open(
        self,
        entity_id: str,
        status: StatusDefinition,
        *,
        by: str,
        session_id: str | None,
        session_type_id: str | None,
        note: str | None = None,
        event_id: str | None = None,
        extra_events: tuple[Envelope, ...] = (),
        snapshot: Document | None = None,
    ) -> Document | None:
        """Record the entity's first status (version 1); None if version 1 exists already.

        `snapshot` is the entity as it is about to be inserted; kept with the opening change,
        it rebuilds the entity if the process dies between the two inserts. Returns the
        status fields to store on the entity.
        """
        change = self._change(
            entity_id,
            None,
            status,
            by=by,
            note=note,
            result=None,
            version=1,
            session_id=session_id,
            session_type_id=session_type_id,
            event_id=event_id,
            run_id=None,
            entity_fields=None,
        )
        if snapshot is not None:
            change["entity_snapshot"] = snapshot
        event = self._event(change, session_id, session_type_id)
        if not await self.repository.claim(change, *extra_events, event):
            return None
        self._context.events_written(CHANGES, change["_id"])
        return projection_of(change)

    async def change(self, entity_id: str, request: StatusChangeRequest, *, by: str) -> Document:
        """A person's change: to the chosen status, or the next one by sort order."""
        document = await self.load(entity_id)
        if request.expected_version is not None and request.expected_version != document["version"]:
            raise Conflict(
                f"{LABELS[self.kind]} {entity_id} changed meanwhile: it is at version "
                f"{document['version']}, not {request.expected_version}.",
                detail={"version": document["version"]},
            )
        self.refuse_closed(document)
        pipeline = await self.pipeline_of(document)
        if request.to_status_id is None:
            current = pipeline.find(document["status_id"]) or await self.statuses.find(
                document["status_id"]
            )
            target = pipeline.next_after(current)
            if target is None:
                raise InvalidTransition(
                    f"{LABELS[self.kind]} {entity_id} is at {document['status_name']!r}, "
                    "the last status of its pipeline; choose a status explicitly.",
                    detail={"status_id": document["status_id"]},
                )
        else:
            target = await self.resolve_target(document, pipeline, request.to_status_id)
        due_at = self.chosen_due(target, request.due_date)
        written = await self.apply(
            document, target, by=by, note=request.note, result=request.result, due_at=due_at
        )
        if written is None:
            raise Conflict(
                f"{LABELS[self.kind]} {entity_id} changed meanwhile; reload and try again.",
                detail={"version": document["version"]},
            )
        return written

    async def resolve_target(
        self, document: Document, pipeline: Pipeline, status_id: str
    ) -> StatusDefinition:
        target = pipeline.find(status_id) or await self.statuses.find(status_id)
        if target is None:
            raise Unprocessable(f"No status {status_id}.", detail={"to_status_id": status_id})
        if target.kind != self.kind:
            raise Unprocessable(
                f"{target.name!r} is a {target.kind} status, not a {self.kind} status.",
                detail={"to_status_id": status_id, "kind": target.kind},
            )
        if pipeline.find(target.id) is None:
            raise Unprocessable(
                f"{target.name!r} belongs to session type {target.session_type_id or 'default'}, "
                f"not to this {self.kind}'s pipeline "
                f"({pipeline.session_type_id or 'default'}).",
                detail={"to_status_id": status_id, "session_type_id": target.session_type_id},
            )
        if not target.active:
            raise Unprocessable(
                f"{target.name!r} is retired; choose an active status.",
                detail={"to_status_id": status_id},
            )
        if target.id == document["status_id"]:
            raise InvalidTransition(
                f"{LABELS[self.kind]} {document['_id']} is already at {target.name!r}.",
                detail={"to_status_id": status_id},
            )
        return target

    @staticmethod
    def chosen_due(target: StatusDefinition, due_date: date | None) -> datetime | None:
        """The due date a person chose for `target`, as the start of that day (UTC)."""
        if due_date is None:
            return None
        if target.final:
            raise Unprocessable(
                f"{target.name!r} is a final status: it has no due date.",
                detail={"due_date": due_date.isoformat()},
            )
        if due_date < datetime.now(UTC).date():
            raise Unprocessable(
                f"The due date {due_date.isoformat()} is in the past.",
                detail={"due_date": due_date.isoformat()},
            )
        return datetime.combine(due_date, time(), tzinfo=UTC)

    def refuse_closed(self, document: Document) -> None:
        if document.get("closed"):
            raise InvalidTransition(
                f"{LABELS[self.kind]} {document['_id']} is closed ({document['status_name']!r}); "
                "its status can no longer change.",
                detail={"status_id": document["status_id"]},
            )

    async def apply(
        self,
        document: Document,
        target: StatusDefinition,
        *,
        by: str,
        note: str | None = None,
        result: str | None = None,
        event_id: str | None = None,
        run_id: str | None = None,
        entity_fields: dict[str, Any] | None = None,
        due_at: datetime | None = None,
    ) -> Document | None:
        """Write the change computed from `document`; None if it moved meanwhile.

        `due_at` is a person's choice; by default the target's duration from now."""
        version = int(document["version"]) + 1
        session_id = document.get("session_id")
        session_type_id = document.get("session_type_id")
        change = self._change(
            str(document["_id"]),
            document,
            target,
            by=by,
            note=note,
            result=result,
            version=version,
            session_id=session_id,
            session_type_id=session_type_id,
            event_id=event_id,
            run_id=run_id,
            entity_fields=entity_fields,
            due_at=due_at,
        )
        if not await self.repository.claim(
            change, self._event(change, session_id, session_type_id)
        ):
            return None
        self._context.events_written(CHANGES, change["_id"])
        fields = projection_of(change)
        await self.repository.project(str(document["_id"]), fields)
        return {**document, **fields}

    def _change(
        self,
        entity_id: str,
        document: Document | None,
        target: StatusDefinition,
        *,
        by: str,
        note: str | None,
        result: str | None,
        version: int,
        session_id: str | None,
        session_type_id: str | None,
        event_id: str | None,
        run_id: str | None,
        entity_fields: dict[str, Any] | None,
        due_at: datetime | None = None,
    ) -> Document:
        now = datetime.now(UTC)
        if due_at is None and not target.final:
            due_at = add_business_days(now, target.duration_days, self._context.settings.work_week)
        return {
            "_id": change_id(self.kind, entity_id, version),
            "kind": self.kind,
            "entity_id": entity_id,
            "version": version,
            "from_status_id": document["status_id"] if document else None,
            "from_status_name": document["status_name"] if document else None,
            "to_status_id": target.id,
            "to_status_name": target.name,
            "stage": target.stage,
            "closed": target.final,
            "completed_at": now,
            "due_at": due_at,
            "changed_by": by,
            "note": note,
            "result": result,
            "event_id": event_id,
            "run_id": run_id,
            "entity_fields": entity_fields or {},
        }

    def _event(
        self, change: Document, session_id: str | None, session_type_id: str | None
    ) -> Envelope:
        due_at: datetime | None = change["due_at"]
        payload = EVENTS[self.kind](
            entity_kind=self.kind,
            entity_id=change["entity_id"],
            session_id=session_id,
            session_type_id=session_type_id,
            from_status=change["from_status_id"],
            from_status_name=change["from_status_name"],
            to_status=change["to_status_id"],
            to_status_name=change["to_status_name"],
            stage=change["stage"],
            changed_by=change["changed_by"],
            changed_at=change["completed_at"],
            due_date=due_at.date() if due_at else None,
            note=change["note"],
            result=change["result"],
            version=change["version"],
        )
        return Envelope.wrap(payload, subject=change["entity_id"], source=source_of("workflow"))


def current_status(document: Document, now: datetime | None = None) -> CurrentStatus:
    now = now or datetime.now(UTC)
    due_at: datetime | None = document.get("due_at")
    return CurrentStatus(
        id=document["status_id"],
        name=document["status_name"],
        stage=document["stage"],
        since=document["status_since"],
        due_at=due_at,
        overdue=bool(due_at and not document.get("closed") and due_at < start_of_day(now)),
    )
