"""The calls we make to Stripe, each with an idempotency key derived from our own ids.

A retried call (after a timeout, a crash, a second click) with the same key returns what the
first one created instead of charging or refunding twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

import stripe
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator

from kit.errors import BadGateway, BadRequest


@dataclass(frozen=True)
class CheckoutPage:
    id: str
    url: str | None
    payment_intent: str | None


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str | None


class _HTTPXClient(stripe.HTTPXClient):
    """stripe 16 hands httpx the encoded form body as `data=`, which httpx deprecates (and
    our tests turn warnings into errors); give it as `content=` instead."""

    def _get_request_args_kwargs(  # type: ignore[no-untyped-def]
        self, method: str, url: str, headers: Any, post_data
    ):
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs.pop("data", None)
        if post_data:
            kwargs["content"] = post_data
        return args, kwargs


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None) -> None:
        self._http = _HTTPXClient(allow_sync_methods=False)
        addresses: Any = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            api_key, base_addresses=addresses, http_client=self._http, max_network_retries=2
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # stripe leaves it untyped

    async def checkout(
        self,
        *,
        payment_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        email: str | None,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
    ) -> CheckoutPage:
        params: Any = {
            "mode": "payment",
            "client_reference_id": payment_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": {"payment_id": payment_id, **metadata},
            "payment_intent_data": {"metadata": {"payment_id": payment_id, **metadata}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount_minor,
                        "product_data": {"name": description},
                    },
                }
            ],
        }
        if email:
            params["customer_email"] = email
        try:
            page = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": f"checkout-{payment_id}"}
            )
        except stripe.StripeError as exc:
            raise _upstream(exc) from exc
        intent = page.payment_intent
        return CheckoutPage(
            id=page.id,
            url=page.url,
            payment_intent=intent if isinstance(intent, str) or intent is None else intent.id,
        )

    async def payment_intent(
        self, *, payment_id: str, amount_minor: int, currency: str, metadata: dict[str, str]
    ) -> Intent:
        params: Any = {
            "amount": amount_minor,
            "currency": currency,
            "metadata": {"payment_id": payment_id, **metadata},
            "automatic_payment_methods": {"enabled": True},
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": f"intent-{payment_id}"}
            )
        except stripe.StripeError as exc:
            raise _upstream(exc) from exc
        return Intent(id=intent.id, client_secret=intent.client_secret)

    async def refund(
        self, *, refund_id: str, payment_intent: str, amount_minor: int, payment_id: str
    ) -> str:
        params: Any = {
            "payment_intent": payment_intent,
            "amount": amount_minor,
            "metadata": {"payment_id": payment_id, "refund_id": refund_id},
        }
        try:
            refund = await self._client.v1.refunds.create_async(
                params, {"idempotency_key": f"refund-{refund_id}"}
            )
        except stripe.StripeError as exc:
            raise _upstream(exc) from exc
        return refund.id


def _upstream(exc: stripe.StripeError) -> BadGateway:
    return BadGateway(
        "Stripe refused or did not answer; nothing was charged or refunded.",
        detail={"stripe": exc.user_message or str(exc), "code": exc.code},
    )


def verify_webhook(payload: bytes, signature: str, secret: str, tolerance: int) -> None:
    """Raise unless `signature` is Stripe's for this exact body and within `tolerance` of now,
    and the body is an event this service can read (`BadRequest` naming what is wrong).

    Stripe's library checks only the past side (a timestamp older than the tolerance); a signed
    timestamp far in the future would otherwise stay replayable until then, so we check both ways.
    """
    stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=tolerance)
    stamps = [
        item.split("=", 1)[1] for item in signature.split(",") if item.strip().startswith("t=")
    ]
    try:
        signed_at = int(stamps[0])
    except (IndexError, ValueError) as exc:
        raise ValueError("The Stripe-Signature header carries no timestamp.") from exc
    if signed_at > time.time() + tolerance:
        raise ValueError(f"The signature's timestamp is more than {tolerance} s in the future.")
    check_event_shape(payload)


class _StripeObject(BaseModel):
    """The fields of an event's object that the payment rules read; anything else may be there."""

    model_config = ConfigDict(extra="allow", strict=True)

    id: str | None = None
    client_reference_id: str | None = None
    payment_status: str | None = None
    payment_intent: str | None = None
    metadata: dict[str, Any] | None = None
    last_payment_error: dict[str, Any] | None = None

    @field_validator("metadata")
    @classmethod
    def _payment_id_is_text(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("payment_id", ""), str | None):
            raise ValueError("metadata.payment_id must be a string")
        return value


class _EventData(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    object: _StripeObject | None = None


class _StripeEvent(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    type: str = ""
    data: _EventData | None = None


def check_event_shape(payload: bytes) -> None:
    """A signed body that is not a Stripe event we can read is the sender's fault (400), not a
    500: not JSON, no `id`, `data` or its `object` not an object, a field we read of the wrong
    type."""
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            "The webhook body is not JSON.", detail={"reason": str(exc)[:200]}
        ) from exc
    try:
        _StripeEvent.model_validate(event)
    except ValidationError as exc:
        problems = [
            {"location": [str(part) for part in e["loc"]], "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise BadRequest("The webhook body is not a Stripe event.", detail=problems) from exc
