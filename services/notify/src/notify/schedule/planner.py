"""From an occurrence (an event about a record) to the actions its rules schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from kit.mongo import Document
from notify.contacts.repository import ContactBook
from notify.rules.repository import RuleRepository
from notify.schedule.repository import ActionRepository, action_id
from notify.schedule.timing import Offset, due_instant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Occurrence:
    """Something happened to a record that rules may be triggered by."""

    trigger: str
    entity_kind: str
    entity_id: str
    # The event's id: one occurrence per event, however often it is delivered.
    occurrence: str
    at: datetime
    client_id: str | None = None
    session_id: str | None = None
    session_type_id: str | None = None
    status: str | None = None
    due_date: date | None = None
    # What the event said that a message may use (a payment's amount, a link, a status).
    facts: dict[str, Any] = field(default_factory=dict)


def offset_of(rule: Document) -> Offset:
    at = rule.get("at_local_time")
    return Offset(
        days=rule.get("offset_days", 0),
        minutes=rule.get("offset_minutes", 0),
        at_local_time=time.fromisoformat(at) if at else None,
    )


def schedule_of(
    rule: Document, anchor: datetime | date, zone: ZoneInfo, session_start: datetime | None
) -> tuple[datetime, datetime | None]:
    """When the rule's action falls due, and the instant after which it must not go (a
    reminder before a session never goes once the session has begun)."""
    due = due_instant(anchor, offset_of(rule), zone)
    not_after = session_start if rule["anchor"] == "session_start" and due < anchor else None
    return due, not_after


class Planner:
    def __init__(
        self,
        rules: RuleRepository,
        actions: ActionRepository,
        contacts: ContactBook,
        zone: ZoneInfo,
    ) -> None:
        self._rules = rules
        self._actions = actions
        self._contacts = contacts
        self._zone = zone

    async def plan(self, occurrence: Occurrence) -> list[str]:
        """Schedule what the rules for this occurrence do; the ids of actions due already."""
        now = datetime.now(UTC)
        due_now: list[str] = []
        for rule in await self._rules.enabled_for(occurrence.trigger):
            if not self._matches(rule, occurrence):
                continue
            document = await self._action(rule, occurrence, now)
            if document is None:
                continue
            inserted = await self._actions.insert(document)
            if inserted and document["state"] == "scheduled" and document["due_at"] <= now:
                due_now.append(document["_id"])
        return due_now

    def _matches(self, rule: Document, occurrence: Occurrence) -> bool:
        status = rule.get("status")
        if status is not None and (occurrence.status or "").casefold() != status.casefold():
            return False
        types = rule.get("session_type_ids") or []
        return not types or occurrence.session_type_id in types

    async def _action(
        self, rule: Document, occurrence: Occurrence, now: datetime
    ) -> Document | None:
        session_start: datetime | None = None
        if occurrence.session_id is not None:
            session = await self._contacts.get("session", occurrence.session_id)
            session_start = session["starts_at"].replace(tzinfo=UTC) if session else None
        anchor: datetime | date | None
        if rule["anchor"] == "session_start":
            anchor = session_start
        elif rule["anchor"] == "status_due":
            anchor = occurrence.due_date
        else:
            anchor = occurrence.at
        if anchor is None:
            log.info(
                "rule %s: %s has no %s; nothing scheduled",
                rule["_id"],
                occurrence.entity_id,
                rule["anchor"],
            )
            return None
        due, not_after = schedule_of(rule, anchor, self._zone, session_start)
        state, reason = "scheduled", None
        if due < occurrence.at:
            # Its moment had passed when the record got here (a session booked after the
            # reminder's time): it never goes, and staff can see why.
            state, reason = "skipped", "its time had passed when the record was made"
        return {
            "_id": action_id(
                rule["_id"], occurrence.entity_kind, occurrence.entity_id, occurrence.occurrence
            ),
            "rule_id": rule["_id"],
            "rule_name": rule["name"],
            "trigger": occurrence.trigger,
            "entity_kind": occurrence.entity_kind,
            "entity_id": occurrence.entity_id,
            "occurrence": occurrence.occurrence,
            "client_id": occurrence.client_id,
            "session_id": occurrence.session_id,
            "anchor": rule["anchor"],
            "channel": rule["channel"],
            "fallbacks": rule.get("fallbacks", []),
            "purpose": rule["purpose"],
            "facts": occurrence.facts,
            "due_at": due,
            "not_after": not_after,
            "state": state,
            "reason": reason,
            "reason_code": "too_late" if state == "skipped" else None,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }

    async def move_session(self, session_id: str, starts_at: datetime, at: datetime) -> int:
        """The session moved: its reminders move with it (or stop, if now too late)."""
        moved = 0
        for action in await self._actions.anchored_to_session(session_id):
            rule = await self._rules.get(action["rule_id"])
            if rule is None:
                continue
            due, not_after = schedule_of(rule, starts_at, self._zone, starts_at)
            late = due < at
            await self._actions.move(
                action["_id"],
                {
                    "due_at": due,
                    "not_after": not_after,
                    "state": "skipped" if late else "scheduled",
                    "reason": "the session moved closer than this reminder" if late else None,
                    "reason_code": "too_late" if late else None,
                    "updated_at": at,
                },
            )
            moved += 1
        return moved

    async def cancel_session(self, session_id: str, at: datetime) -> int:
        return await self._actions.cancel_pending(
            {"session_id": session_id}, "the session was cancelled", at
        )

    async def cancel_client(self, client_id: str, at: datetime) -> int:
        return await self._actions.cancel_pending(
            {"client_id": client_id}, "the client was deleted", at
        )
