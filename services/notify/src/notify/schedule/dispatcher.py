"""Sending what is due: each action claimed before it is sent, its outcome recorded with its
event in one write.

- Exactly once, but for one window: a sender that crashes after the SMTP server accepted a
  mail and before the record leaves a claim that lapses after `claim_seconds`; the action is
  then sent again, with the same Message-ID (and an SMS with the same idempotency key, which
  the provider answers with the first message). Nothing else sends twice.
- Nothing late without saying so: an action due longer ago than `catch_up_hours` (the
  process was down), or one whose moment has passed (a reminder once its session began), is
  marked missed with the reason, and staff see it.
- Quiet hours: an email or SMS due inside its channel's quiet hours waits until they end.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kit.events.contracts.notify import MessageFailed, MessageSent
from kit.events.envelope import Envelope
from kit.mongo import Document
from notify.config import NotifySettings
from notify.messages.compose import Composed, Composer, NotSent
from notify.messages.documents import (
    Attachment,
    DocumentMissing,
    DocumentUnavailable,
    InvoiceDocuments,
)
from notify.messages.mail import TRANSIENT, Mailer, RecipientRefused, email_message
from notify.messages.sms import SmsProvider, SmsRefused, SmsUnavailable
from notify.rules.repository import RuleRepository
from notify.schedule.repository import ActionRepository
from notify.schedule.timing import QuietHours
from notify.tasks.repository import TaskRepository

log = logging.getLogger(__name__)

SOURCE = "/services/notify"


@dataclass
class DispatchReport:
    sent: int = 0
    missed: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    retried: int = 0


class _Retry(Exception):
    """A send a later try may succeed at."""


class _Refused(Exception):
    """A send no retry can make succeed."""


class Dispatcher:
    def __init__(
        self,
        settings: NotifySettings,
        actions: ActionRepository,
        rules: RuleRepository,
        tasks: TaskRepository,
        composer: Composer,
        documents: InvoiceDocuments,
        *,
        mailer: Mailer | None,
        sms: SmsProvider | None,
        events_written: Callable[[str], None],
        batch: int = 200,
    ) -> None:
        self._settings = settings
        self._actions = actions
        self._rules = rules
        self._tasks = tasks
        self._composer = composer
        self._documents = documents
        self._mailer = mailer
        self._sms = sms
        self._events_written = events_written
        self._batch = batch
        self._quiet = {
            "email": QuietHours.parse(settings.quiet_hours_email),
            "sms": QuietHours.parse(settings.quiet_hours_sms),
        }
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # The loop: a pass every `dispatch_seconds`, or at once when woken.

    def wake(self, action_ids: list[str] | None = None) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify-dispatcher")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), 10.0)
            except TimeoutError:
                task.cancel()

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = await self.run_due()
                if report.sent + report.missed + report.failed + report.retried == self._batch:
                    continue  # a full batch: more may be waiting
            except Exception as exc:
                log.warning(
                    "dispatch pass failed (%s); next in %s s", exc, self._settings.dispatch_seconds
                )
            try:
                async with asyncio.timeout(self._settings.dispatch_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def run_due(self, now: datetime | None = None) -> DispatchReport:
        """One pass over what is due at `now`."""
        now = now or datetime.now(UTC)
        report = DispatchReport()
        for action in await self._actions.due(now, self._batch):
            await self._handle(action, now, report)
        return report

    async def _handle(self, action: Document, now: datetime, report: DispatchReport) -> None:
        if action["state"] == "scheduled":
            late = self._lateness(action, now)
            if late is not None:
                if await self._actions.settle_scheduled(
                    action["_id"],
                    self._missed_fields(late, now),
                    self._failed_event(action, late, now),
                ):
                    self._events_written(action["_id"])
                    report.missed += 1
                return
        token = uuid.uuid4().hex
        claimed = await self._actions.claim(
            action["_id"], now, now + timedelta(seconds=self._settings.claim_seconds), token
        )
        if claimed is None:
            return  # another process has it, or it changed
        await self._send(claimed, token, now, report)

    def _lateness(self, action: Document, now: datetime) -> str | None:
        not_after = action.get("not_after")
        if not_after is not None and now >= not_after:
            return f"missed: its moment had passed ({not_after:%Y-%m-%d %H:%M} UTC)"
        window = timedelta(hours=self._settings.catch_up_hours)
        if now - action["due_at"] > window:
            return (
                f"missed: due {action['due_at']:%Y-%m-%d %H:%M} UTC, more than "
                f"{self._settings.catch_up_hours:g} h before the notifier sent it"
            )
        return None

    async def _defer(
        self, action: Document, token: str, release: datetime, now: datetime, report: DispatchReport
    ) -> None:
        """Back to the schedule until the channel's quiet hours end (the try not counted)."""
        not_after = action.get("not_after")
        if not_after is not None and release >= not_after:
            reason = "missed: quiet hours lasted until its moment had passed"
            if await self._actions.finish(
                action["_id"],
                token,
                self._missed_fields(reason, now),
                self._failed_event(action, reason, now),
            ):
                self._events_written(action["_id"])
                report.missed += 1
            return
        fields = {
            "state": "scheduled",
            "due_at": release,
            "deferred_from": action["due_at"],
            "attempts": action.get("attempts", 1) - 1,
            "updated_at": now,
        }
        if await self._actions.finish(action["_id"], token, fields, None):
            report.deferred += 1

    async def _send(
        self, action: Document, token: str, at: datetime, report: DispatchReport
    ) -> None:
        now = datetime.now(UTC)
        rule = await self._rules.get(action["rule_id"])
        if rule is None or not rule.get("enabled", True):
            await self._actions.finish(
                action["_id"],
                token,
                {
                    "state": "cancelled",
                    "reason": "the rule was disabled or deleted",
                    "updated_at": now,
                },
                None,
            )
            return
        composed = await self._composer.compose(rule, action)
        if isinstance(composed, NotSent):
            if await self._actions.finish(
                action["_id"],
                token,
                {"state": "skipped", "reason": composed.reason, "updated_at": now},
                self._failed_event(action, composed.reason, now),
                unset=("facts.link_url",),
            ):
                self._events_written(action["_id"])
            report.skipped += 1
            return
        quiet = self._quiet.get(composed.channel)
        if quiet is not None:
            release = quiet.release(at, self._settings.zone)
            if release > at:
                await self._defer(action, token, release, now, report)
                return
        try:
            message_id, proof = await self._deliver(action, composed)
        except _Retry as exc:
            await self._retry_or_fail(action, token, composed, str(exc), report)
            return
        except _Refused as exc:
            await self._fail(action, token, composed, str(exc), report)
            return
        sent_at = datetime.now(UTC)
        outcome = {
            "state": "sent",
            "sent_at": sent_at,
            "channel_used": composed.channel,
            "recipient": composed.recipient,
            "subject": composed.rendered.subject if composed.channel == "email" else None,
            "message_id": message_id,
            "reason": None,
            "updated_at": sent_at,
            **proof,
        }
        event = self._event(
            MessageSent(
                **self._record(action, composed),
                sent_at=sent_at,
                message_id=message_id,
                attachment_sha256=[a["sha256"] for a in proof.get("attachments", [])],
            ),
            action["_id"],
        )
        # The link is the client's key to their files: kept only until its message went.
        if await self._actions.finish(
            action["_id"], token, outcome, event, unset=("facts.link_url",)
        ):
            self._events_written(action["_id"])
            report.sent += 1
        else:
            log.warning("action %s was sent but its claim had lapsed", action["_id"])

    async def _deliver(
        self, action: Document, composed: Composed
    ) -> tuple[str | None, dict[str, Any]]:
        """Send it; the message's id and what proves what it carried."""
        if composed.channel == "email":
            assert self._mailer is not None
            assert composed.recipient is not None
            attachments = await self._attachments(composed)
            message_id = f"<{action['_id']}@{self._mailer.domain}>"
            message = email_message(
                self._settings,
                to=composed.recipient,
                rendered=composed.rendered,
                message_id=message_id,
                unsubscribe_url=composed.unsubscribe_url,
                attachments=attachments,
            )
            try:
                await self._mailer.send(message)
            except RecipientRefused as exc:
                raise _Refused(f"the mail server refused {composed.recipient}: {exc}") from exc
            except TRANSIENT as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            proof = {
                "attachments": [{"filename": a.filename, "sha256": a.sha256} for a in attachments]
            }
            return message_id, proof if attachments else {}
        if composed.channel == "sms":
            assert self._sms is not None
            assert composed.recipient is not None
            try:
                provider_id = await self._sms.send(
                    to=composed.recipient,
                    text=composed.rendered.text,
                    idempotency_key=action["_id"],
                )
            except SmsRefused as exc:
                raise _Refused(f"the SMS provider refused it: {exc}") from exc
            except SmsUnavailable as exc:
                raise _Retry(f"the SMS provider is unavailable: {exc}") from exc
            return provider_id, {}
        await self._tasks.insert(self._task_document(action, composed))
        return None, {}

    async def _attachments(self, composed: Composed) -> tuple[Attachment, ...]:
        if composed.attach_invoice_id is None:
            return ()
        try:
            return (await self._documents.invoice(composed.attach_invoice_id),)
        except DocumentUnavailable as exc:
            raise _Retry(f"the invoice cannot be printed now: {exc}") from exc
        except DocumentMissing as exc:
            raise _Refused(str(exc)) from exc

    def _task_document(self, action: Document, composed: Composed) -> Document:
        client = composed.client or {}
        title = composed.rendered.subject or action.get("rule_name") or "Follow up"
        if composed.channel == "call":
            title = f"Call {client.get('name') or 'the client'}: {title}"
        return {
            "_id": action["_id"],
            "kind": composed.channel,
            "title": title[:200],
            "note": composed.rendered.text.strip(),
            "due_at": action["due_at"],
            "client_id": action.get("client_id"),
            "client_name": client.get("name"),
            "phone": client.get("phone") or client.get("sms_phone"),
            "email": client.get("email"),
            "session_id": action.get("session_id"),
            "action_id": action["_id"],
            "rule_id": action["rule_id"],
            "created_at": datetime.now(UTC),
            "created_by": "notify",
            "done_at": None,
        }

    async def _retry_or_fail(
        self, action: Document, token: str, composed: Composed, error: str, report: DispatchReport
    ) -> None:
        attempts = action.get("attempts", 1)
        if attempts >= self._settings.max_attempts:
            await self._fail(
                action, token, composed, f"gave up after {attempts} tries: {error}", report
            )
            return
        now = datetime.now(UTC)
        delay = min(self._settings.retry_seconds * 2 ** (attempts - 1), 6 * 3600)
        log.warning("action %s: %s; retrying in %.0f s", action["_id"], error, delay)
        await self._actions.finish(
            action["_id"],
            token,
            {
                "state": "scheduled",
                "due_at": now + timedelta(seconds=delay),
                "last_error": error[:500],
                "updated_at": now,
            },
            None,
        )
        report.retried += 1

    async def _fail(
        self, action: Document, token: str, composed: Composed, reason: str, report: DispatchReport
    ) -> None:
        now = datetime.now(UTC)
        event = self._event(
            MessageFailed(**self._record(action, composed), failed_at=now, reason=reason[:500]),
            action["_id"],
        )
        if await self._actions.finish(
            action["_id"],
            token,
            {
                "state": "failed",
                "reason": reason[:500],
                "recipient": composed.recipient,
                "updated_at": now,
            },
            event,
            unset=("facts.link_url",),
        ):
            self._events_written(action["_id"])
        report.failed += 1

    def _missed_fields(self, reason: str, now: datetime) -> dict[str, Any]:
        return {"state": "missed", "reason": reason, "updated_at": now}

    def _record(self, action: Document, composed: Composed | None) -> dict[str, Any]:
        return {
            "action_id": action["_id"],
            "rule_id": action["rule_id"],
            "channel": composed.channel if composed else action["channel"],
            "entity_kind": action["entity_kind"],
            "entity_id": action["entity_id"],
            "client_id": action.get("client_id"),
            "recipient": composed.recipient if composed else None,
            "subject": composed.rendered.subject
            if composed and composed.channel == "email"
            else None,
        }

    def _failed_event(self, action: Document, reason: str, now: datetime) -> Envelope:
        return self._event(
            MessageFailed(**self._record(action, None), failed_at=now, reason=reason[:500]),
            action["_id"],
        )

    def _event(self, payload: MessageSent | MessageFailed, subject: str) -> Envelope:
        return Envelope.wrap(payload, subject=subject, source=SOURCE)
