"""Online booking: what a client may book, booking it (held for the deposit when the type
takes one), and cancelling or rescheduling through a signed link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from booking.cancellations.service import CancellationService
from booking.clients.keys import normalise_email
from booking.clients.repository import ClientRepository
from booking.clients.schemas import ClientCreate, Phone
from booking.clients.service import client_service
from booking.online import schemas
from booking.online.links import Purpose, check_link_token, link_token
from booking.payments.service import PaymentService
from booking.scheduling.calendar import GRANULE_MINUTES, on_granule
from booking.scheduling.schemas import BookSession, Reschedule, Session, SessionType
from booking.scheduling.service import SchedulingService, now_utc
from kit.errors import BadGateway, Conflict, NotFound, StudioError, Unprocessable


class OnlineBookingService:
    def __init__(
        self,
        scheduling: SchedulingService,
        clients: ClientRepository,
        payments: PaymentService,
        cancellations: CancellationService,
        *,
        link_secret: str,
        public_base_url: str,
        hold_minutes: int,
        lead_minutes: int,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.scheduling = scheduling
        self.clients = clients
        self.payments = payments
        self.cancellations = cancellations
        self.link_secret = link_secret
        self.public_base_url = public_base_url.rstrip("/")
        self.hold = timedelta(minutes=hold_minutes)
        self.lead = timedelta(minutes=lead_minutes)
        self.clock = clock

    async def studio(self) -> schemas.PublicStudio:
        settings = await self.cancellations.studio.current()
        return schemas.PublicStudio(
            studio_name=settings.studio_name,
            studio_phone=settings.studio_phone,
            timezone=settings.timezone,
            currency=settings.currency,
        )

    async def bookable_types(self) -> list[schemas.BookableType]:
        return [
            schemas.BookableType(
                id=t.id,
                name=t.name,
                description=t.online_description,
                duration_minutes=t.duration_minutes,
                deposit_minor=t.deposit_minor,
                currency=t.currency,
            )
            for t in await self.scheduling.session_types(online_only=True)
        ]

    async def _bookable(self, type_id: str) -> SessionType:
        try:
            stype = await self.scheduling.session_type(type_id)
        except NotFound:
            stype = None
        if stype is None or not (stype.active and stype.bookable_online):
            raise NotFound("No such session type can be booked online.")
        return stype

    async def free_starts(self, type_id: str, start: datetime, end: datetime) -> schemas.FreeStarts:
        await self._bookable(type_id)
        found = await self.scheduling.availability(
            type_id, start, end, not_before=self.clock() + self.lead
        )
        return schemas.FreeStarts(
            session_type_id=type_id, starts=[s.starts_at for s in found.starts]
        )

    async def book(self, data: schemas.OnlineBooking) -> schemas.BookingConfirmation:
        stype = await self._bookable(data.session_type_id)
        self._check_lead(data.starts_at)
        await self._check_free(stype, data.starts_at)
        client_id, new_client = await self._client_for(data.client)
        hold_until = self.clock() + self.hold if stype.deposit_minor > 0 else None
        try:
            session = await self.scheduling.book(
                BookSession(
                    client_id=client_id,
                    session_type_id=stype.id,
                    starts_at=data.starts_at,
                    notes=data.notes,
                ),
                hold_until=hold_until,
            )
        except Conflict as exc:
            # Lost the race for the slot: a client record made for this attempt goes again,
            # so the loser leaves nothing behind (a returning client's record stays, and so does
            # one that a simultaneous request with the same email is booking for).
            if new_client and not await self.scheduling.client_has_sessions(client_id):
                await client_service.delete(self.clients, client_id)
            raise Conflict(
                "Someone booked that time a moment ago: it is no longer free. "
                "Please choose another time.",
                detail={"starts_at": data.starts_at.isoformat(), "slot_gone": True},
            ) from exc
        deposit = None
        if hold_until is not None:
            try:
                payment = await self.payments.start_deposit(
                    session.id, method="checkout", email=data.client.email
                )
            except BadGateway:
                # No way to pay, so no hold: free the slot at once.
                await self.scheduling.cancel(session.id, "The deposit checkout could not start.")
                raise
            deposit = schemas.DepositCheckout(
                payment_id=payment["_id"],
                amount_minor=payment["amount_minor"],
                currency=payment["currency"],
                checkout_url=payment["checkout_url"],
            )
        return schemas.BookingConfirmation(
            session_id=session.id,
            session_number=session.number,
            state=session.state,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            hold_expires_at=session.hold_expires_at,
            client_id=client_id,
            deposit=deposit,
            links=schemas.ManageLinks(
                cancel_url=self._link(session.id, "cancel"),
                reschedule_url=self._link(session.id, "reschedule"),
            ),
        )

    async def _client_for(self, details: schemas.ClientDetails) -> tuple[str, bool]:
        """The live client with this email, or a new one (never a second with the email);
        and whether it was made now."""
        email = normalise_email(details.email)
        assert email is not None
        known = await self.clients.find_duplicates(emails=[email], phones=[], name_zips=[], limit=1)
        if known:
            client_id: str = known[0]["_id"]
            return client_id, False
        fields = ClientCreate(
            first_name=details.first_name,
            last_name=details.last_name,
            email=details.email,
            phones=[Phone(number=details.phone)] if details.phone else [],
        )
        # Another client may share the phone or name and postal code: the email decides here.
        document = await client_service.create(self.clients, fields, allow_duplicate=True)
        new_id: str = document["_id"]
        return new_id, True

    def _link(self, session_id: str, purpose: Purpose) -> str:
        token = link_token(self.link_secret, session_id, purpose)
        return f"{self.public_base_url}/public/sessions/{session_id}/{purpose}?token={token}"

    async def _check_free(self, stype: SessionType, starts_at: datetime) -> None:
        """Refuse a start that is not free before anything is written (a new client record
        included); the booking itself still settles a race for the last free slot."""
        if not on_granule(starts_at.astimezone(UTC)):
            raise Unprocessable(
                "Sessions start on whole 5-minute marks.",
                detail={"starts_at": starts_at.isoformat()},
            )
        found = await self.scheduling.availability(
            stype.id,
            starts_at,
            starts_at + timedelta(minutes=stype.duration_minutes + GRANULE_MINUTES),
        )
        if not any(s.starts_at == starts_at for s in found.starts):
            raise Conflict(
                "That time is not free: please choose another time.",
                detail={"starts_at": starts_at.isoformat(), "slot_gone": True},
            )

    def _check_lead(self, starts_at: datetime) -> None:
        earliest = self.clock() + self.lead
        if starts_at < earliest:
            raise Unprocessable(
                "That start is too soon to book online.",
                detail={"earliest": earliest.isoformat()},
            )

    # --- signed links ------------------------------------------------------------------

    async def view(
        self, session_id: str, token: str, *, purpose: Purpose | None = None
    ) -> schemas.PublicSession:
        """The session, and whether its links still change it (else: call the studio)."""
        if purpose is None:
            self._check_any(session_id, token)
        else:
            check_link_token(self.link_secret, session_id, purpose, token)
        return await self._public(await self.scheduling.session(session_id))

    async def cancel(self, session_id: str, data: schemas.LinkCancel) -> schemas.PublicSession:
        check_link_token(self.link_secret, session_id, "cancel", data.token)
        await self.cancellations.check_link_change(await self.scheduling.session(session_id))
        reason = data.reason or "Cancelled by the client online."
        return await self._public(
            await self.cancellations.cancel(session_id, reason, by="client", deposit="policy")
        )

    async def reschedule(
        self, session_id: str, data: schemas.LinkReschedule
    ) -> schemas.PublicSession:
        check_link_token(self.link_secret, session_id, "reschedule", data.token)
        current = await self.scheduling.session(session_id)
        await self.cancellations.check_link_change(current)
        self._check_lead(data.starts_at)
        moved = await self.scheduling.reschedule(
            session_id, Reschedule(starts_at=data.starts_at, version=current.version)
        )
        return await self._public(moved)

    async def _public(self, session: Session) -> schemas.PublicSession:
        refusal = await self.cancellations.link_refusal(session)
        settings = await self.cancellations.studio.current()
        outcome = session.deposit_outcome
        stype = await self.scheduling.session_type(session.session_type_id)
        return schemas.PublicSession(
            session_id=session.id,
            session_number=session.number,
            session_type_id=session.session_type_id,
            session_type_name=stype.name,
            state=session.state,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            can_change=refusal is None,
            changes_close_at=await self.cancellations.changeable_until(session),
            refusal=refusal,
            studio_name=settings.studio_name,
            studio_phone=settings.studio_phone,
            deposit_outcome=outcome.outcome if outcome else None,
            deposit_outcome_reason=outcome.reason if outcome else None,
        )

    def _check_any(self, session_id: str, token: str) -> None:
        try:
            check_link_token(self.link_secret, session_id, "cancel", token)
        except StudioError:
            check_link_token(self.link_secret, session_id, "reschedule", token)
