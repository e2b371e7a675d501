"""Payment routes: staff start payments and refunds under `/payments`; Stripe calls the
webhook under `/public/payments/stripe-webhook` (no login: the signature is the proof)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Header, Query, Request, status

from booking.config import BookingSettings
from booking.payments import schemas
from booking.payments.repository import PaymentRepository
from booking.payments.service import PaymentService, to_schema
from booking.payments.stripe_gateway import StripeGateway
from booking.scheduling.router import build_service as build_scheduling
from kit.app import Platform, PlatformDep
from kit.query_params import FreeQuery

STRIPE_GATEWAY = "stripe_gateway"


async def open_stripe(platform: Platform) -> None:
    settings = cast(BookingSettings, platform.settings)
    platform.extras[STRIPE_GATEWAY] = StripeGateway(
        settings.secret("stripe_api_key"), settings.stripe_api_base
    )


async def close_stripe(platform: Platform) -> None:
    gateway: StripeGateway | None = platform.extras.pop(STRIPE_GATEWAY, None)
    if gateway is not None:
        await gateway.close()


def build_service(platform: Platform) -> PaymentService:
    settings = cast(BookingSettings, platform.settings)
    relay = platform.relay
    return PaymentService(
        PaymentRepository(platform.db, relay.notify if relay else lambda *_: None),
        platform.extras[STRIPE_GATEWAY],
        build_scheduling(platform),
        webhook_secret=settings.secret("stripe_webhook_secret"),
        public_base_url=settings.public_base_url,
    )


def payment_service(platform: PlatformDep) -> PaymentService:
    return build_service(platform)


PaymentDep = Annotated[PaymentService, Depends(payment_service)]
router = APIRouter(tags=["payments"])


@router.post("/payments", status_code=status.HTTP_201_CREATED)
async def start_payment(data: schemas.PaymentIn, service: PaymentDep) -> schemas.Payment:
    """Start a deposit (by session) or an invoice payment (by invoice) through Stripe."""
    return to_schema(await service.start(data))


@router.post(
    "/payments/recorded",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Nothing open on the invoice, or the deposit is paid"}},
)
async def record_payment(
    data: schemas.RecordedPaymentIn,
    service: PaymentDep,
    x_user_id: Annotated[str | None, Header(max_length=200)] = None,
) -> schemas.Payment:
    """Record money the studio took itself (cash, its card terminal, a bank transfer, a
    cheque): paid at once, as a Stripe payment is when Stripe confirms it; a held session's
    deposit books the session. A refund of it is recorded too (no Stripe call)."""
    return to_schema(await service.record(data, by=x_user_id))


@router.get("/payments")
async def list_payments(
    service: PaymentDep,
    session_id: str | None = None,
    invoice_id: str | None = None,
    client_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[schemas.Payment]:
    """Payments of a session, an invoice or a client, newest first."""
    found = await service.find(
        session_id=session_id, invoice_id=invoice_id, client_id=client_id, limit=limit
    )
    return [to_schema(d) for d in found]


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: str, service: PaymentDep) -> schemas.Payment:
    return to_schema(await service.get(payment_id))


@router.post("/payments/{payment_id}/refunds", status_code=status.HTTP_201_CREATED)
async def refund(payment_id: str, data: schemas.RefundIn, service: PaymentDep) -> schemas.Payment:
    """Refund all (no amount) or part of a succeeded payment; never more than was paid."""
    return to_schema(await service.refund(payment_id, data))


@router.post(
    "/public/payments/stripe-webhook",
    dependencies=[FreeQuery],  # the URL is the operator's to choose in Stripe's dashboard
    responses={400: {"description": "The signature is missing or does not match the body"}},
)
async def stripe_webhook(
    request: Request,
    service: PaymentDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> schemas.WebhookReceipt:
    """Stripe's events, verified against the raw body; each event id takes effect once."""
    return await service.handle_webhook(await request.body(), stripe_signature)
