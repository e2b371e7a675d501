"""The rules of status definitions and the pipelines they form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from kit.errors import Conflict, NotFound, Unprocessable
from kit.events.contracts.workflow import EntityKind
from kit.mongo import Document
from workflow.statuses.defaults import default_statuses
from workflow.statuses.repository import StatusRepository
from workflow.statuses.schemas import StatusCreate, StatusDefinition, StatusRole, StatusUpdate


@dataclass(frozen=True)
class Pipeline:
    """The statuses one entity kind (and session type) moves through, in sort order."""

    kind: EntityKind
    session_type_id: str | None
    statuses: list[StatusDefinition]

    @property
    def active(self) -> list[StatusDefinition]:
        return [s for s in self.statuses if s.active]

    def find(self, status_id: str) -> StatusDefinition | None:
        return next((s for s in self.statuses if s.id == status_id), None)

    def named(self, name: str) -> StatusDefinition | None:
        wanted = name.strip().casefold()
        return next((s for s in self.active if s.name.casefold() == wanted), None)

    def initial(self) -> StatusDefinition:
        initial = [s for s in self.active if s.initial]
        if initial:
            return initial[0]
        if not self.active:
            raise Unprocessable(
                f"The {self.kind} pipeline{self._type_part()} has no active status.",
                detail={"kind": self.kind, "session_type_id": self.session_type_id},
            )
        return self.active[0]

    def with_role(self, role: StatusRole) -> StatusDefinition | None:
        return next((s for s in self.active if s.role == role), None)

    def next_after(self, current: StatusDefinition | None) -> StatusDefinition | None:
        """The next active status by sort order; a status with a role is only reached on purpose."""
        candidates = [s for s in self.active if s.role is None]
        if current is None:
            return candidates[0] if candidates else None
        return next(
            (
                s
                for s in candidates
                if (s.sort_order, s.id) > (current.sort_order, current.id) and s.id != current.id
            ),
            None,
        )

    def _type_part(self) -> str:
        return f" of session type {self.session_type_id}" if self.session_type_id else ""


class StatusService:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._repository = StatusRepository(db)

    async def seed_defaults(self) -> None:
        await self._repository.seed(default_statuses())

    async def pipeline(self, kind: EntityKind, session_type_id: str | None = None) -> Pipeline:
        """The pipeline of a kind; a session type with statuses of its own uses only those."""
        if session_type_id is None:
            return Pipeline(kind, None, await self._repository.of_kind(kind, None))
        both = await self._repository.of_kind_and_defaults(kind, session_type_id)
        own = [s for s in both if s.session_type_id == session_type_id]
        if own:
            return Pipeline(kind, session_type_id, own)
        return Pipeline(kind, None, [s for s in both if s.session_type_id is None])

    async def get(self, status_id: str) -> StatusDefinition:
        status = await self._repository.get(status_id)
        if status is None:
            raise NotFound(f"No status {status_id}.", detail={"status_id": status_id})
        return status

    async def find(self, status_id: str) -> StatusDefinition | None:
        return await self._repository.get(status_id)

    async def all(self) -> list[StatusDefinition]:
        return await self._repository.all()

    async def create(self, request: StatusCreate) -> StatusDefinition:
        if request.kind != "session" and request.session_type_id is not None:
            raise Unprocessable(
                "Only session statuses can belong to a session type.",
                detail={"kind": request.kind, "session_type_id": request.session_type_id},
            )
        siblings = await self._repository.of_kind(request.kind, request.session_type_id)
        self._refuse_duplicate_name(siblings, request.name, None)
        status = StatusDefinition(id=f"st-{uuid.uuid4().hex[:12]}", **request.model_dump())
        await self._repository.insert(status)
        if status.initial:
            await self._repository.clear_initial(status.kind, status.session_type_id, status.id)
        return status

    async def update(self, status_id: str, request: StatusUpdate) -> StatusDefinition:
        current = await self.get(status_id)
        changes = request.model_dump(exclude_unset=True)
        if "role" not in request.model_fields_set:
            changes.pop("role", None)
        if any(changes.get(k) is None for k in changes if k != "role"):
            raise Unprocessable(
                "Only `role` may be set to null.",
                detail=[k for k in changes if k != "role" and changes[k] is None],
            )
        if not changes:
            return current
        if "name" in changes:
            siblings = await self._repository.of_kind(current.kind, current.session_type_id)
            self._refuse_duplicate_name(siblings, changes["name"], current.id)
        updated = await self._repository.update(status_id, changes)
        if updated is None:
            raise NotFound(f"No status {status_id}.", detail={"status_id": status_id})
        if changes.get("initial"):
            await self._repository.clear_initial(updated.kind, updated.session_type_id, updated.id)
        return updated

    @staticmethod
    def _refuse_duplicate_name(
        siblings: list[StatusDefinition], name: str, except_id: str | None
    ) -> None:
        wanted = name.strip().casefold()
        for sibling in siblings:
            if sibling.active and sibling.id != except_id and sibling.name.casefold() == wanted:
                raise Conflict(
                    f"An active status named {sibling.name!r} already exists in this pipeline.",
                    detail={"status_id": sibling.id},
                )
