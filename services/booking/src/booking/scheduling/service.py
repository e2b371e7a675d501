"""The scheduling rules: session types, resources, hours, availability, booking.

A booking is three steps, each safe to crash after:
1. a `pending` session document (no number, no event);
2. the resource claims (all or nothing; a taken granule answers 409 and removes step 1);
3. the session number and state `booked` (or `held` for an unpaid online booking), written
   together with `booking.session.booked.v1` in one update.
The sweeper finishes what a crash left: old `pending` sessions and expired holds release
their claims.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.scheduling import schemas
from booking.scheduling.calendar import (
    Closure,
    WeeklyHours,
    covers,
    granules,
    on_granule,
    opening_intervals,
    starts_in,
)
from booking.scheduling.repository import SchedulingRepository, SlotTaken, claim_id
from kit.errors import Conflict, InvalidTransition, NotFound, Unprocessable
from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked, SessionCancelled, SessionRescheduled
from kit.events.contracts.workflow import StatusChange
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document

SOURCE = source_of("booking")
PENDING_GRACE = timedelta(minutes=2)
MAX_AVAILABILITY_DAYS = 62


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    blocked_until: datetime


class SchedulingService:
    def __init__(
        self,
        repository: SchedulingRepository,
        *,
        timezone: str,
        notify: Callable[..., None] = lambda *_: None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.repo = repository
        self.zone = ZoneInfo(timezone)
        self.notify = notify
        self.clock = clock

    # --- session types and resources ------------------------------------------

    async def create_session_type(self, data: schemas.SessionTypeIn) -> schemas.SessionType:
        await self._check_resources(data.resource_ids)
        document = {"_id": str(uuid.uuid4()), **data.model_dump()}
        await self.repo.insert("session_types", document)
        return _session_type(document)

    async def update_session_type(
        self, type_id: str, data: schemas.SessionTypeIn
    ) -> schemas.SessionType:
        await self._check_resources(data.resource_ids)
        document = {"_id": type_id, **data.model_dump()}
        if not await self.repo.replace("session_types", document):
            raise NotFound(f"No session type {type_id}.")
        return _session_type(document)

    async def session_type(self, type_id: str) -> schemas.SessionType:
        document = await self.repo.get("session_types", type_id)
        if document is None:
            raise NotFound(f"No session type {type_id}.")
        return _session_type(document)

    async def session_types(self, *, online_only: bool = False) -> list[schemas.SessionType]:
        selector = {"active": True, "bookable_online": True} if online_only else {}
        return [_session_type(d) for d in await self.repo.find_all("session_types", selector)]

    async def create_resource(self, data: schemas.ResourceIn) -> schemas.Resource:
        document = {"_id": str(uuid.uuid4()), **data.model_dump()}
        await self.repo.insert("resources", document)
        return schemas.Resource(id=document["_id"], **data.model_dump())

    async def update_resource(self, resource_id: str, data: schemas.ResourceIn) -> schemas.Resource:
        if not await self.repo.replace("resources", {"_id": resource_id, **data.model_dump()}):
            raise NotFound(f"No resource {resource_id}.")
        return schemas.Resource(id=resource_id, **data.model_dump())

    async def resources(self) -> list[schemas.Resource]:
        return [
            schemas.Resource(id=d["_id"], name=d["name"], kind=d["kind"], active=d["active"])
            for d in await self.repo.find_all("resources")
        ]

    async def _check_resources(self, resource_ids: Sequence[str], *, active: bool = False) -> None:
        found = {d["_id"]: d for d in await self.repo.resources(resource_ids)}
        unknown = [r for r in resource_ids if r not in found]
        if unknown:
            raise Unprocessable("Unknown resources.", detail={"resource_ids": unknown})
        if active:
            retired = [r for r in resource_ids if not found[r]["active"]]
            if retired:
                raise Unprocessable(
                    "Retired resources cannot be booked.", detail={"resource_ids": retired}
                )

    # --- opening hours and closures -------------------------------------------

    async def add_opening_hours(self, data: schemas.OpeningHoursIn) -> list[schemas.OpeningHours]:
        """Bulk: one weekly rule per resource."""
        await self._check_resources(data.resource_ids)
        created = []
        for resource_id in data.resource_ids:
            document = {
                "_id": str(uuid.uuid4()),
                "resource_id": resource_id,
                "weekdays": sorted(set(data.weekdays)),
                "opens": data.opens.isoformat("minutes"),
                "closes": data.closes.isoformat("minutes"),
                "valid_from": data.valid_from.isoformat(),
                "valid_until": data.valid_until.isoformat() if data.valid_until else None,
            }
            await self.repo.insert("opening_hours", document)
            created.append(_opening_hours(document))
        return created

    async def opening_hours(self) -> list[schemas.OpeningHours]:
        return [_opening_hours(d) for d in await self.repo.find_all("opening_hours")]

    async def delete_opening_hours(self, hours_id: str) -> None:
        if not await self.repo.delete("opening_hours", hours_id):
            raise NotFound(f"No opening hours {hours_id}.")

    async def add_closure(self, data: schemas.ClosureIn) -> schemas.Closure:
        if data.resource_id:
            await self._check_resources([data.resource_id])
        document = {
            "_id": str(uuid.uuid4()),
            "resource_id": data.resource_id,
            "first_day": data.first_day.isoformat(),
            "last_day": data.last_day.isoformat(),
            "reason": data.reason,
        }
        await self.repo.insert("closures", document)
        return _closure(document)

    async def closures(self) -> list[schemas.Closure]:
        return [_closure(d) for d in await self.repo.find_all("closures")]

    async def delete_closure(self, closure_id: str) -> None:
        if not await self.repo.delete("closures", closure_id):
            raise NotFound(f"No closure {closure_id}.")

    async def _open_intervals(
        self, resource_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        hours = await self.repo.hours_for(resource_ids)
        closures = await self.repo.closures_for(resource_ids)
        result = {}
        for resource_id in resource_ids:
            rules = [_weekly(h) for h in hours if h["resource_id"] == resource_id]
            closed = [
                Closure(date.fromisoformat(c["first_day"]), date.fromisoformat(c["last_day"]))
                for c in closures
                if c["resource_id"] in (None, resource_id)
            ]
            result[resource_id] = opening_intervals(rules, closed, start, end, self.zone)
        return result

    # --- availability -----------------------------------------------------------

    async def availability(
        self,
        type_id: str,
        start: datetime,
        end: datetime,
        *,
        resource_id: str | None = None,
        not_before: datetime | None = None,
    ) -> schemas.Availability:
        if end <= start:
            raise Unprocessable("The range must end after it starts.")
        if end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
            raise Unprocessable(f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time.")
        stype = await self.session_type(type_id)
        candidates = [resource_id] if resource_id else stype.resource_ids
        if resource_id and resource_id not in stype.resource_ids:
            raise Unprocessable("That resource does not take sessions of this type.")
        active = {d["_id"] for d in await self.repo.resources(candidates) if d["active"]}
        candidates = [r for r in candidates if r in active]
        duration = timedelta(minutes=stype.duration_minutes)
        buffer_after = timedelta(minutes=stype.buffer_after_minutes)
        now = self.clock()
        opening = await self._open_intervals(candidates, start, end)
        sessions = await self.repo.busy(
            candidates, start - duration - buffer_after, end + duration + buffer_after, now
        )
        free: dict[datetime, list[str]] = {}
        for candidate in candidates:
            busy = [
                (s["starts_at"], s["blocked_until"])
                for s in sessions
                if candidate in s["resource_ids"]
            ]
            for moment in starts_in(
                opening[candidate],
                busy,
                duration=duration,
                buffer_after=buffer_after,
                step=timedelta(minutes=stype.start_every_minutes),
                not_before=max(not_before or now, start),
            ):
                free.setdefault(moment, []).append(candidate)
        return schemas.Availability(
            session_type_id=type_id,
            starts=[
                schemas.FreeStart(starts_at=m, resource_ids=r) for m, r in sorted(free.items())
            ],
        )

    # --- sessions ---------------------------------------------------------------

    async def book(
        self, data: schemas.BookSession, *, hold_until: datetime | None = None
    ) -> schemas.Session:
        """Book a session, or hold it until `hold_until` for payment; 409 if a resource is taken."""
        client = await self.repo.client(data.client_id)
        if client is None or _is_deleted(client):
            raise Unprocessable(f"No client {data.client_id}.")
        try:
            stype = await self.session_type(data.session_type_id)
        except NotFound as exc:
            raise Unprocessable(exc.message) from exc
        if not stype.active:
            raise Unprocessable(f"Session type {stype.name} is retired.")
        window = self._window(stype, data.starts_at)
        choices = [data.resource_ids] if data.resource_ids else [[r] for r in stype.resource_ids]
        if not choices:
            raise Unprocessable("Choose the resources: this session type names none.")
        for choice in choices:
            await self._check_resources(choice, active=True)

        session_id = str(uuid.uuid4())
        now = self.clock()
        document: Document = {
            "_id": session_id,
            "number": None,
            "client_id": data.client_id,
            "session_type_id": stype.id,
            "starts_at": window.start,
            "ends_at": window.end,
            "blocked_until": window.blocked_until,
            "resource_ids": [],
            "location": data.location,
            "notes": data.notes,
            "state": "pending",
            "hold_expires_at": hold_until,
            "cancel_reason": None,
            "claims_released": False,
            "version": 0,
            "created_at": now,
        }
        await self.repo.insert_session(document)
        taken: list[str] = []
        for choice in choices:
            if not data.outside_hours and not await self._open_for(choice, window):
                taken.append(f"{', '.join(choice)}: closed then")
                continue
            try:
                await self._claim(session_id, choice, window)
            except SlotTaken as exc:
                taken.append(exc.claim.rsplit(":", 1)[0])
                continue
            return await self._number_and_confirm(document, choice, hold_until)
        await self.repo.delete_session(session_id)
        raise Conflict(
            "That time is not free.",
            detail={"starts_at": window.start.isoformat(), "unavailable": taken},
        )

    async def _number_and_confirm(
        self, document: Document, resource_ids: list[str], hold_until: datetime | None
    ) -> schemas.Session:
        number = f"S{10000 + await self.repo.next_session_number()}"
        state = "held" if hold_until else "booked"
        changes = {"number": number, "resource_ids": resource_ids, "state": state}
        events = [] if hold_until else [await self._booked_event({**document, **changes})]
        updated = await self.repo.update_session(
            document["_id"], expect={"state": "pending"}, changes=changes, events=events
        )
        if updated is None:  # the sweeper judged it abandoned; its claims are gone
            raise Conflict("The booking took too long; try again.")
        self.notify("sessions", document["_id"])
        return _session(updated)

    async def _booked_event(self, document: Document) -> Envelope:
        return Envelope.wrap(
            SessionBooked(**await self._session_record(document)),
            subject=document["_id"],
            source=SOURCE,
        )

    async def _session_record(self, document: Document) -> dict[str, Any]:
        """A session event's payload, with the client's name as the client record has it now."""
        client = await self.repo.client(document["client_id"])
        return {**_session_record(document), "client_name": client_name(client)}

    async def confirm_hold(self, session_id: str) -> schemas.Session:
        """The deposit was paid: a held session becomes booked (once)."""
        document = await self._load(session_id)
        if document["state"] == "booked":
            return _session(document)
        if document["state"] != "held":
            raise InvalidTransition(
                f"Session {document['number']} is {document['state']}; "
                "only a held session can be confirmed."
            )
        updated = await self.repo.update_session(
            session_id,
            expect={"state": "held", "version": document["version"]},
            changes={"state": "booked", "hold_expires_at": None},
            events=[await self._booked_event(document)],
        )
        if updated is None:
            raise Conflict("The session changed meanwhile; try again.")
        self.notify("sessions", session_id)
        return _session(updated)

    async def reschedule(self, session_id: str, data: schemas.Reschedule) -> schemas.Session:
        document = await self._load(session_id)
        if document["state"] not in ("booked", "held"):
            raise InvalidTransition(f"A {document['state']} session cannot be rescheduled.")
        if document["version"] != data.version:
            raise Conflict(
                "The session changed since you loaded it.", detail={"version": document["version"]}
            )
        stype = await self.session_type(document["session_type_id"])
        window = self._window(stype, data.starts_at)
        resource_ids = data.resource_ids or document["resource_ids"]
        await self._check_resources(resource_ids, active=True)
        if not data.outside_hours and not await self._open_for(resource_ids, window):
            raise Conflict(
                "The studio is closed then.", detail={"starts_at": window.start.isoformat()}
            )
        held = await self.repo.claims_of(session_id)
        try:
            added = await self._claim(session_id, resource_ids, window, skip=frozenset(held))
        except SlotTaken as exc:
            raise Conflict(
                "That time is not free.",
                detail={
                    "starts_at": window.start.isoformat(),
                    "unavailable": [exc.claim.rsplit(":", 1)[0]],
                },
            ) from exc
        moved = {
            **document,
            "starts_at": window.start,
            "ends_at": window.end,
            "resource_ids": resource_ids,
        }
        events = (
            [
                Envelope.wrap(
                    SessionRescheduled(**await self._session_record(moved)),
                    subject=session_id,
                    source=SOURCE,
                )
            ]
            if document["state"] == "booked"
            else []
        )
        updated = await self.repo.update_session(
            session_id,
            expect={"version": data.version, "state": document["state"]},
            changes={
                "starts_at": window.start,
                "ends_at": window.end,
                "blocked_until": window.blocked_until,
                "resource_ids": resource_ids,
            },
            events=events,
        )
        if updated is None:
            await self.repo.release(session_id, added)
            raise Conflict("The session changed meanwhile; try again.")
        self.notify("sessions", session_id)
        await self.repo.release(
            session_id, sorted(held - set(self._claim_ids(resource_ids, window)))
        )
        return _session(updated)

    async def cancel(
        self,
        session_id: str,
        reason: str,
        *,
        by: str | None = None,
        deposit_outcome: Document | None = None,
        expect_version: int | None = None,
    ) -> schemas.Session:
        """Cancel; `deposit_outcome` (what becomes of a paid deposit) is written with it."""
        document = await self._load(session_id)
        if document["state"] not in ("booked", "held"):
            raise InvalidTransition(f"Session {document['number']} is already {document['state']}.")
        if expect_version is not None and document["version"] != expect_version:
            raise Conflict("The session changed meanwhile; try again.")
        events = (
            [
                Envelope.wrap(
                    SessionCancelled(
                        session_id=session_id, session_number=document["number"], reason=reason
                    ),
                    subject=session_id,
                    source=SOURCE,
                )
            ]
            if document["state"] == "booked"
            else []
        )
        updated = await self.repo.update_session(
            session_id,
            expect={"version": document["version"]},
            changes={
                "state": "cancelled",
                "cancel_reason": reason,
                "cancelled_by": by,
                "cancelled_at": self.clock(),
                "deposit_outcome": deposit_outcome,
                "claims_released": False,
            },
            events=events,
        )
        if updated is None:
            raise Conflict("The session changed meanwhile; try again.")
        self.notify("sessions", session_id)
        await self._release_all(updated)
        return _session(updated)

    async def record_deposit_outcome(self, session_id: str, outcome: Document) -> None:
        """What finally became of a cancelled session's deposit (a refund done or failed)."""
        await self.repo.update_session(
            session_id, expect={"state": "cancelled"}, changes={"deposit_outcome": outcome}
        )

    async def client_has_sessions(self, client_id: str) -> bool:
        """Whether any session (even one being booked this moment) names the client."""
        return await self.repo.client_has_sessions(client_id)

    async def pending_deposit_refunds(self, decided_before: datetime) -> list[Document]:
        """Cancelled sessions whose deposit refund was decided before then and not finished."""
        return await self.repo.pending_deposit_refunds(decided_before)

    async def reopen(self, session_id: str, data: schemas.Reopen, *, by: str) -> schemas.Session:
        """Reinstate a cancelled session in its slot (or the one given) if it is free.

        Two steps, each safe to crash after: the session is marked `reopening` (so nobody
        takes its new claims for a cancelled session's leftovers), then the claims; then
        `booked` with `booking.session.booked.v1`, which names who reopened it and why.
        A taken slot answers 409 and leaves the session cancelled.
        """
        document = await self._load(session_id)
        if document["state"] != "cancelled":
            raise InvalidTransition(
                f"Only a cancelled session can be reopened; {document['number']} is "
                f"{document['state']}."
            )
        if document["version"] != data.version:
            raise Conflict(
                "The session changed since you loaded it.", detail={"version": document["version"]}
            )
        stype = await self.session_type(document["session_type_id"])
        window = self._window(stype, data.starts_at or document["starts_at"])
        resource_ids = data.resource_ids or document["resource_ids"]
        await self._check_resources(resource_ids, active=True)
        if not data.outside_hours and not await self._open_for(resource_ids, window):
            raise Conflict(
                "The studio is closed then: choose another slot to reopen the session in.",
                detail={"starts_at": window.start.isoformat(), "choose_another_slot": True},
            )
        marked = await self.repo.update_session(
            session_id,
            expect={"state": "cancelled", "version": data.version},
            changes={"state": "reopening", "reopening_since": self.clock()},
        )
        if marked is None:
            raise Conflict("The session changed meanwhile; try again.")
        await self.repo.release(session_id)  # what the cancellation may not have released yet
        try:
            await self._claim(session_id, resource_ids, window)
        except SlotTaken as exc:
            back = await self.repo.update_session(
                session_id,
                expect={"state": "reopening"},
                changes={"state": "cancelled", "reopening_since": None, "claims_released": True},
            )
            raise Conflict(
                "That slot is no longer free: choose another slot to reopen the session in.",
                detail={
                    "starts_at": window.start.isoformat(),
                    "unavailable": [exc.claim.rsplit(":", 1)[0]],
                    "choose_another_slot": True,
                    # The version to send with the next attempt (this one counted as a change).
                    "version": back["version"] if back else None,
                },
            ) from exc
        at = self.clock()
        entry = {
            "by": by,
            "reason": data.reason,
            "at": at,
            "previous_cancel_reason": document.get("cancel_reason"),
        }
        moved = {
            **document,
            "starts_at": window.start,
            "ends_at": window.end,
            "resource_ids": resource_ids,
        }
        record = await self._session_record(moved)
        event = Envelope.wrap(
            SessionBooked.model_validate(
                {**record, "reopened_by": by, "reopen_reason": data.reason}
            ),
            subject=session_id,
            source=SOURCE,
        )
        updated = await self.repo.update_session(
            session_id,
            expect={"state": "reopening"},
            changes={
                "state": "booked",
                "starts_at": window.start,
                "ends_at": window.end,
                "blocked_until": window.blocked_until,
                "resource_ids": resource_ids,
                "hold_expires_at": None,
                "cancel_reason": None,
                "cancelled_by": None,
                "reopening_since": None,
                "claims_released": False,
                "reopened": [*document.get("reopened", []), entry],
            },
            events=[event],
        )
        if updated is None:  # the sweeper judged it abandoned; its claims are gone
            raise Conflict("Reopening took too long; try again.")
        self.notify("sessions", session_id)
        return _session(updated)

    async def record_workflow_status(self, context: HandlerContext, change: StatusChange) -> None:
        """What workflow says the session's status is: the client's links read it."""
        fields: Document = {
            "workflow_status": change.to_status_name or change.to_status,
            "workflow_stage": change.stage,
            "workflow_version": change.version,
        }
        if change.from_status is None:
            fields["workflow_first_stage"] = change.stage
        selector: Document = {"_id": change.entity_id}
        if change.version is not None:
            selector["$or"] = [
                {"workflow_version": None},
                {"workflow_version": {"$lt": change.version}},
            ]
        await self.repo.apply_workflow_status(context, selector, fields)

    async def session(self, session_id: str) -> schemas.Session:
        return _session(await self._load(session_id))

    async def calendar(
        self, start: datetime, end: datetime, *, resource_id: str | None, client_id: str | None
    ) -> list[schemas.Session]:
        if end <= start:
            raise Unprocessable("The range must end after it starts.")
        return [_session(d) for d in await self.repo.calendar(start, end, resource_id, client_id)]

    async def sweep(self) -> int:
        """Expire unpaid holds, clear sessions a crash left pending, release freed claims."""
        now = self.clock()
        swept = 0
        for document in await self.repo.sessions_to_sweep(now, now - PENDING_GRACE):
            if document["state"] == "pending":
                await self.repo.release(document["_id"])
                await self.repo.delete_session(document["_id"])
            elif document["state"] == "reopening":
                abandoned = await self.repo.update_session(
                    document["_id"],
                    expect={"state": "reopening", "version": document["version"]},
                    changes={
                        "state": "cancelled",
                        "reopening_since": None,
                        "claims_released": False,
                    },
                )
                if abandoned is not None:
                    await self._release_all(abandoned)
            elif document["state"] == "held":
                expired = await self.repo.update_session(
                    document["_id"],
                    expect={"state": "held", "version": document["version"]},
                    changes={"state": "expired", "claims_released": False},
                )
                if expired is not None:
                    await self._release_all(expired)
            else:
                await self._release_all(document)
            swept += 1
        return swept

    # --- helpers ------------------------------------------------------------------

    def _window(self, stype: schemas.SessionType, starts_at: datetime) -> Window:
        start = starts_at.astimezone(UTC)
        if not on_granule(start):
            raise Unprocessable(
                "Sessions start on whole 5-minute marks.",
                detail={"starts_at": starts_at.isoformat()},
            )
        end = start + timedelta(minutes=stype.duration_minutes)
        return Window(start, end, end + timedelta(minutes=stype.buffer_after_minutes))

    def _claim_ids(self, resource_ids: Sequence[str], window: Window) -> list[str]:
        return [
            claim_id(r, g)
            for r in resource_ids
            for g in granules(window.start, window.blocked_until)
        ]

    async def _open_for(self, resource_ids: Sequence[str], window: Window) -> bool:
        opening = await self._open_intervals(resource_ids, window.start, window.end)
        return all(covers(opening[r], window.start, window.end) for r in resource_ids)

    async def _claim(
        self,
        session_id: str,
        resource_ids: Sequence[str],
        window: Window,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Claim, and if an expired hold stands in the way, expire it and try once more."""
        try:
            return await self.repo.claim(
                session_id, resource_ids, window.start, window.blocked_until, skip=skip
            )
        except SlotTaken as exc:
            holder = await self.repo.claim_holder(exc.claim)
            if holder is None or not await self._expire_if_lapsed(holder):
                raise
        return await self.repo.claim(
            session_id, resource_ids, window.start, window.blocked_until, skip=skip
        )

    async def _expire_if_lapsed(self, session_id: str) -> bool:
        document = await self.repo.session(session_id)
        if document is None:
            await self.repo.release(session_id)  # claims of a session that never came to be
            return True
        lapsed_hold = document["state"] == "held" and document["hold_expires_at"] <= self.clock()
        stale_pending = (
            document["state"] == "pending"
            and document["created_at"] <= self.clock() - PENDING_GRACE
        )
        if document["state"] in ("cancelled", "expired") or stale_pending:
            await self.repo.release(session_id)
            return True
        if lapsed_hold:
            expired = await self.repo.update_session(
                session_id,
                expect={"state": "held", "version": document["version"]},
                changes={"state": "expired", "claims_released": False},
            )
            if expired is not None:
                await self._release_all(expired)
                return True
        return False

    async def _release_all(self, document: Document) -> None:
        await self.repo.release(document["_id"])
        await self.repo.update_session(
            document["_id"], expect={"state": document["state"]}, changes={"claims_released": True}
        )

    async def _load(self, session_id: str) -> Document:
        document = await self.repo.session(session_id)
        if document is None or document["state"] == "pending":
            raise NotFound(f"No session {session_id}.")
        return document


def _is_deleted(client: Document) -> bool:
    return bool(client.get("deleted_at") or client.get("deleted"))


def client_name(client: Document | None) -> str | None:
    """How a client is named on paper: first and last name, else the organization."""
    if client is None:
        return None
    person = " ".join(p for p in (client.get("first_name"), client.get("last_name")) if p)
    return person or client.get("organization") or None


def _session_record(document: Document) -> dict[str, Any]:
    return {
        "session_id": document["_id"],
        "session_number": document["number"],
        "client_id": document["client_id"],
        "session_type_id": document["session_type_id"],
        "starts_at": document["starts_at"],
        "ends_at": document["ends_at"],
        "resource_ids": document["resource_ids"],
        "location": document.get("location"),
    }


def _session(document: Document) -> schemas.Session:
    return schemas.Session(
        id=document["_id"],
        number=document["number"],
        client_id=document["client_id"],
        session_type_id=document["session_type_id"],
        starts_at=document["starts_at"],
        ends_at=document["ends_at"],
        blocked_until=document["blocked_until"],
        resource_ids=document["resource_ids"],
        location=document.get("location"),
        notes=document.get("notes"),
        state=document["state"],
        hold_expires_at=document.get("hold_expires_at"),
        cancel_reason=document.get("cancel_reason"),
        cancelled_by=document.get("cancelled_by"),
        deposit_outcome=document.get("deposit_outcome"),
        reopened=document.get("reopened", []),
        workflow_status=document.get("workflow_status"),
        workflow_stage=document.get("workflow_stage"),
        workflow_moved_on=_workflow_moved_on(document),
        version=document["version"],
    )


def _workflow_moved_on(document: Document) -> bool:
    stage = document.get("workflow_stage")
    if stage is None:
        return False
    first = document.get("workflow_first_stage")
    if first is None:  # the first change was not heard: any later one counts as moving on
        return int(document.get("workflow_version") or 0) > 1
    return bool(stage != first)


def _session_type(document: Document) -> schemas.SessionType:
    fields = {k: v for k, v in document.items() if k != "_id"}
    return schemas.SessionType(id=document["_id"], **fields)


def _opening_hours(document: Document) -> schemas.OpeningHours:
    return schemas.OpeningHours(
        id=document["_id"],
        resource_id=document["resource_id"],
        weekdays=document["weekdays"],
        opens=time.fromisoformat(document["opens"]),
        closes=time.fromisoformat(document["closes"]),
        valid_from=date.fromisoformat(document["valid_from"]),
        valid_until=date.fromisoformat(document["valid_until"])
        if document["valid_until"]
        else None,
    )


def _weekly(document: Document) -> WeeklyHours:
    hours = _opening_hours(document)
    return WeeklyHours(
        frozenset(hours.weekdays), hours.opens, hours.closes, hours.valid_from, hours.valid_until
    )


def _closure(document: Document) -> schemas.Closure:
    return schemas.Closure(
        id=document["_id"],
        resource_id=document["resource_id"],
        first_day=date.fromisoformat(document["first_day"]),
        last_day=date.fromisoformat(document["last_day"]),
        reason=document["reason"],
    )
