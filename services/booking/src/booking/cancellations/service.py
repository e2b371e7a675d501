"""The cancellation rules: what becomes of a paid deposit, when a client's link stops
working, and reopening a session cancelled by mistake.

The deposit's fate is decided before the cancellation and written with it (one update of the
session, with `booking.session.cancelled.v1`): `kept`, `none` (nothing was paid) or `pending`
(a refund is due). A due refund then goes through Stripe as every refund does (its own
`booking.payment.refunded.v1`), and the session's outcome becomes `refunded`, or `failed`
with Stripe's reason, for the studio to see. Nothing is kept silently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from booking.payments import schemas as payment_schemas
from booking.payments.service import PaymentService
from booking.scheduling import schemas
from booking.scheduling.service import SchedulingService, now_utc
from booking.scheduling.studio_settings import StudioSettingsService
from kit.errors import Conflict, Forbidden, InvalidTransition, StudioError
from kit.mongo import Document

DepositChoice = Literal["policy", "keep", "refund"]
STUDIO_ROLES = ("owner", "staff")


class CancellationService:
    def __init__(
        self,
        scheduling: SchedulingService,
        payments: PaymentService,
        studio: StudioSettingsService,
        *,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.scheduling = scheduling
        self.payments = payments
        self.studio = studio
        self.clock = clock

    # --- cancelling ----------------------------------------------------------------------

    async def cancel(
        self,
        session_id: str,
        reason: str,
        *,
        by: str | None,
        deposit: DepositChoice = "policy",
    ) -> schemas.Session:
        """Cancel and settle the deposit by the studio's policy (or the studio's choice)."""
        session = await self.scheduling.session(session_id)
        if session.state not in ("booked", "held"):
            raise InvalidTransition(f"Session {session.number} is already {session.state}.")
        settings = await self.studio.current()
        paid = await self._paid_deposit(session_id)
        outcome = self._decide(session, paid, settings.deposit_policy, deposit)
        await self.scheduling.cancel(
            session_id, reason, by=by, deposit_outcome=outcome, expect_version=session.version
        )
        if paid is not None:
            if outcome["outcome"] == "pending":
                outcome = await self._refund(paid, outcome)
                await self.scheduling.record_deposit_outcome(session_id, outcome)
            await self.payments.record_cancellation(paid["_id"], session_id, outcome)
        return await self.scheduling.session(session_id)

    async def _paid_deposit(self, session_id: str) -> Document | None:
        for payment in await self.payments.find(
            session_id=session_id, invoice_id=None, client_id=None, limit=50
        ):
            if (
                payment["purpose"] == "deposit"
                and payment["status"] == "succeeded"
                and payment["amount_minor"] > payment["refunded_minor"]
            ):
                return payment
        return None

    def _decide(
        self,
        session: schemas.Session,
        paid: Document | None,
        policy: schemas.DepositPolicy,
        choice: DepositChoice,
    ) -> Document:
        at = self.clock()
        if paid is None:
            return _outcome(
                "none",
                _policy_name(policy, choice),
                "No deposit was paid (a checkout paid after this is refunded).",
                at,
            )
        amount = paid["amount_minor"] - paid["refunded_minor"]
        name = _policy_name(policy, choice)
        if choice == "keep":
            return _outcome("kept", name, "The studio chose to keep the deposit.", at, paid, amount)
        if choice == "refund":
            reason = "The studio chose to refund the deposit in full."
            return _outcome("pending", name, reason, at, paid, amount)
        if policy.kind == "keep":
            reason = "The studio's policy keeps the deposit when a session is cancelled."
            return _outcome("kept", name, reason, at, paid, amount)
        if policy.kind == "refund":
            reason = "The studio's policy refunds the deposit in full on a cancellation."
            return _outcome("pending", name, reason, at, paid, amount)
        days = policy.days or 0
        if at <= session.starts_at - timedelta(days=days):
            reason = f"Cancelled at least {days} days before the session: refunded in full."
            return _outcome("pending", name, reason, at, paid, amount)
        reason = f"Cancelled less than {days} days before the session: the deposit is kept."
        return _outcome("kept", name, reason, at, paid, amount)

    async def _refund(self, paid: Document, outcome: Document) -> Document:
        """The refund the outcome calls for, once (its id is derived from the payment's)."""
        refund_id = f"{paid['_id']}-cancelled"
        try:
            payment = await self.payments.refund(
                paid["_id"],
                payment_schemas.RefundIn(reason=outcome["reason"]),
                refund_id=refund_id,
            )
        except StudioError as exc:
            return {
                **outcome,
                "outcome": "failed",
                "refund_id": refund_id,
                "reason": f"The refund did not go through ({exc.message}); "
                "refund it from the payment.",
                "decided_at": self.clock(),
            }
        status = payment["refunds"].get(refund_id, {}).get("status")
        if status == "succeeded":
            return {**outcome, "outcome": "refunded", "refund_id": refund_id}
        if status == "failed":
            return {
                **outcome,
                "outcome": "failed",
                "refund_id": refund_id,
                "reason": "The refund did not go through; refund it from the payment.",
                "decided_at": self.clock(),
            }
        return {**outcome, "refund_id": refund_id}  # still under way: the sweep looks again

    async def finish_pending_refunds(self, *, older_than: timedelta) -> int:
        """Refunds a cancellation decided but did not finish (a crash, a restart): done now,
        and the session's and the payment's outcome written. Returns how many were finished."""
        finished = 0
        for session in await self.scheduling.pending_deposit_refunds(self.clock() - older_than):
            outcome = session["deposit_outcome"]
            paid = await self.payments.get(outcome["payment_id"])
            done = await self._refund(paid, outcome)
            if done["outcome"] == "pending":
                continue
            await self.scheduling.record_deposit_outcome(session["_id"], done)
            await self.payments.record_cancellation(paid["_id"], session["_id"], done)
            finished += 1
        return finished

    # --- clients' links --------------------------------------------------------------------

    async def link_refusal(self, session: schemas.Session) -> str | None:
        """Why a client's cancel or reschedule link no longer works, or None if it does."""
        settings = await self.studio.current()
        call = f"Please call {settings.studio_name or 'the studio'}" + (
            f" on {settings.studio_phone}" if settings.studio_phone else ""
        )
        now = self.clock()
        if session.state == "cancelled":
            return f"This session is cancelled. {call} to book again."
        if session.state not in ("booked", "held"):
            return f"This session is {session.state}. {call}."
        if now >= session.starts_at:
            return f"This session has started, so it can no longer be changed online. {call}."
        if session.workflow_moved_on:
            return (
                "The studio has started work on this session, so it can no longer be changed "
                f"online. {call}."
            )
        cutoff = session.starts_at - timedelta(hours=settings.change_cutoff_hours)
        if now > cutoff:
            return (
                f"Changes online close {settings.change_cutoff_hours} hours before the session. "
                f"{call} to change it."
            )
        return None

    async def check_link_change(self, session: schemas.Session) -> None:
        refusal = await self.link_refusal(session)
        if refusal is not None:
            raise Conflict(refusal, detail={"call_the_studio": True})

    async def changeable_until(self, session: schemas.Session) -> datetime:
        settings = await self.studio.current()
        return session.starts_at - timedelta(hours=settings.change_cutoff_hours)

    # --- reopening ---------------------------------------------------------------------------

    async def reopen(
        self, session_id: str, data: schemas.Reopen, *, by: str | None, role: str | None
    ) -> schemas.Session:
        """The studio (owner or staff) reinstates a cancelled session; never a client."""
        if role is not None and role not in STUDIO_ROLES:
            raise Forbidden("Only the studio's owner or staff reopen a session.")
        return await self.scheduling.reopen(session_id, data, by=by or "studio")


def _policy_name(policy: schemas.DepositPolicy, choice: DepositChoice) -> str:
    if choice != "policy":
        return f"studio's choice: {choice}"
    return f"refund_before:{policy.days}" if policy.kind == "refund_before" else policy.kind


def _outcome(
    kind: str,
    policy: str,
    reason: str,
    at: datetime,
    paid: Document | None = None,
    amount: int = 0,
) -> Document:
    return {
        "outcome": kind,
        "policy": policy,
        "reason": reason,
        "payment_id": paid["_id"] if paid else None,
        "amount_minor": amount,
        "refund_id": None,
        "decided_at": at,
    }
