"""A rule's dry run: what it would send for one record, to whom and when, sending nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from kit.errors import NotFound
from kit.mongo import Document
from notify.config import NotifySettings
from notify.contacts.repository import ContactBook
from notify.messages.compose import Composer, NotSent
from notify.rules.repository import RuleRepository
from notify.rules.schemas import PreviewOutcome, PreviewRequest, entity_of
from notify.schedule.planner import schedule_of


class RulePreview:
    def __init__(
        self,
        settings: NotifySettings,
        rules: RuleRepository,
        contacts: ContactBook,
        composer: Composer,
    ) -> None:
        self._settings = settings
        self._rules = rules
        self._contacts = contacts
        self._composer = composer

    async def preview(self, rule_id: str, request: PreviewRequest) -> PreviewOutcome:
        rule = await self._rules.get(rule_id)
        if rule is None:
            raise NotFound(f"No rule {rule_id}.")
        kind = entity_of(rule["trigger"])
        action = await self._action(rule, kind, request.entity_id)
        now = datetime.now(UTC)
        session = (
            await self._contacts.get("session", action["session_id"])
            if action.get("session_id")
            else None
        )
        types = rule.get("session_type_ids") or []
        if types and (session or {}).get("session_type_id") not in types:
            return PreviewOutcome(would_send=False, reason="the rule covers other session types")
        due_at = None
        if rule["anchor"] == "session_start":
            if session is None:
                return PreviewOutcome(would_send=False, reason="no session to count from")
            due_at, _ = schedule_of(
                rule, session["starts_at"], self._settings.zone, session["starts_at"]
            )
            if due_at < now:
                return PreviewOutcome(
                    would_send=False, due_at=due_at, reason="its time has passed for this session"
                )
        elif rule["anchor"] == "event":
            due_at, _ = schedule_of(rule, now, self._settings.zone, None)
        composed = await self._composer.compose(rule, action)
        if isinstance(composed, NotSent):
            return PreviewOutcome(would_send=False, reason=composed.reason, due_at=due_at)
        return PreviewOutcome(
            would_send=True,
            reason=None if rule.get("enabled", True) else "the rule is disabled",
            channel=composed.channel,
            recipient=composed.recipient,
            due_at=due_at,
            subject=composed.rendered.subject,
            text=composed.rendered.text,
            html=composed.rendered.html,
        )

    async def _action(self, rule: Document, kind: str, entity_id: str) -> Document:
        """The record as an action would see it."""
        facts: Document = {}
        if kind == "client":
            contact = await self._contacts.contact(entity_id)
            if contact is None:
                raise NotFound(f"Notify knows no client {entity_id}.")
            return {
                "entity_kind": kind,
                "entity_id": entity_id,
                "client_id": entity_id,
                "facts": facts,
            }
        record = await self._contacts.get(kind, entity_id)
        if record is None:
            raise NotFound(f"Notify knows no {kind.replace('_', ' ')} {entity_id}.")
        session_id = entity_id if kind == "session" else record.get("session_id")
        session = await self._contacts.get("session", session_id) if session_id else None
        client_id = record.get("client_id") or (session or {}).get("client_id")
        if kind == "delivery":
            facts = {
                k: v
                for k, v in record.items()
                if not k.startswith("_") and k not in ("kind", "session_id")
            }
            facts["link_url"] = "(the client's link)"
        if rule.get("status"):
            facts["status"] = rule["status"]
        if rule["trigger"] in ("deposit.paid", "invoice.paid"):
            facts["amount"] = "(the amount paid)"
        return {
            "entity_kind": kind,
            "entity_id": entity_id,
            "client_id": client_id,
            "session_id": session_id,
            "facts": facts,
        }
