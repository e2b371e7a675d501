"""Invoices: totals in minor units, the amount due on Kafka, payments that settle them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from workflow_harness import Workflow

from kit.errors import Unprocessable
from kit.events.contracts.booking import PaymentRefunded, PaymentSucceeded
from kit.events.contracts.workflow import InvoiceCreated, InvoiceStatusChanged
from workflow.invoices.totals import Discount, compute_totals


def test_totals_round_half_up_apply_discounts_to_the_subtotal_and_tax_the_rest() -> None:
    totals = compute_totals(
        [(3, 333), (1, 1250)],
        [Discount("loyalty", Decimal("10"), None), Discount("coupon", None, 500)],
        Decimal("8.25"),
    )
    assert totals.line_totals == [999, 1250]
    assert totals.subtotal_minor == 2249
    assert totals.discount_amounts == [225, 500]  # 224.9 rounds up
    assert totals.taxable_minor == 1524
    assert totals.tax_minor == 126  # 125.73
    assert totals.total_minor == 1650
    # Exactly half a cent rounds up.
    assert compute_totals([(1, 200)], [], Decimal("7.25")).tax_minor == 15  # 14.5
    assert compute_totals([(1, 1)], [], Decimal("49.9999")).tax_minor == 0
    with pytest.raises(Unprocessable):
        compute_totals([(1, 100)], [Discount("too much", None, 101)], Decimal(0))


async def price_list(workflow: Workflow) -> dict[str, Any]:
    answer = await workflow.client.post(
        "/workflow/price-lists",
        json={
            "name": "Portraits 2026",
            "currency": "USD",
            "products": [
                {
                    "name": "8x10 print",
                    "price_minor": 2500,
                    "kind": "physical",
                    "vendor": "Miller's",
                },
                {
                    "name": "Canvas 16x20",
                    "price_minor": 19900,
                    "kind": "physical",
                    "vendor": "WHCC",
                },
                {"name": "Digital file", "price_minor": 4000, "kind": "digital"},
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def product(prices: dict[str, Any], name: str) -> str:
    return next(p["id"] for p in prices["products"] if p["name"] == name)


async def test_an_invoice_computes_its_totals_and_announces_the_amount_due(
    workflow: Workflow,
) -> None:
    prices = await price_list(workflow)
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-1",
            "session_id": "s1",
            "price_list_id": prices["id"],
            "lines": [
                {
                    "product_id": product(prices, "8x10 print"),
                    "image_ids": ["img-1"],
                    "quantity": 3,
                    "crop": {"x": 0.1, "y": 0.1, "width": 0.8, "height": 0.8},
                    "adjustments": {"exposure": 0.3},
                    "retouch_notes": "soften the background",
                },
                {
                    "product_id": product(prices, "Digital file"),
                    "quantity": 1,
                    "unit_price_minor": 3333,
                },
            ],
            "discounts": [{"description": "portrait week", "percent": "15"}],
            "tax_rate_percent": "6.5",
        },
        headers={"X-User-Id": "sales-amy"},
    )
    assert answer.status_code == 201, answer.text
    invoice = answer.json()
    assert invoice["subtotal_minor"] == 3 * 2500 + 3333
    assert invoice["discount_minor"] == 1625  # 15% of 10833 = 1624.95
    assert invoice["tax_minor"] == 599  # 6.5% of 9208 = 598.52
    assert invoice["total_minor"] == 9807
    assert invoice["balance_minor"] == 9807
    assert invoice["status"]["name"] == "Order Entered"
    line = invoice["lines"][0]
    assert (line["vendor"], line["retouch_notes"], line["crop"]["width"]) == (
        "Miller's",
        "soften the background",
        0.8,
    )

    events = await workflow.workflow_events(invoice["invoice_id"], 2)
    created = next(e for e in events if e.type == InvoiceCreated.event_type)
    assert created.payload(InvoiceCreated).amount_due_minor == 9807
    status = next(e for e in events if e.type == InvoiceStatusChanged.event_type)
    assert status.payload(InvoiceStatusChanged).to_status_name == "Order Entered"
    fetched = await workflow.client.get(f"/workflow/invoices/{invoice['invoice_id']}")
    assert fetched.json()["total_minor"] == 9807


async def create_invoice(workflow: Workflow, total_items: int = 2) -> dict[str, Any]:
    prices = await price_list(workflow)
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-2",
            "price_list_id": prices["id"],
            "lines": [{"product_id": product(prices, "8x10 print"), "quantity": total_items}],
        },
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def payment(invoice: dict[str, Any], payment_id: str, amount: int) -> PaymentSucceeded:
    return PaymentSucceeded(
        payment_id=payment_id,
        client_id="client-2",
        amount_minor=amount,
        currency="usd",
        invoice_id=invoice["invoice_id"],
    )


async def test_payments_are_recorded_once_and_a_fully_paid_invoice_moves_to_paid(
    workflow: Workflow,
) -> None:
    invoice = await create_invoice(workflow)  # 5000
    invoice_id = invoice["invoice_id"]
    first = workflow.envelope(payment(invoice, "pay-1", 2000), subject="pay-1")
    await workflow.publish(first, first)
    await workflow.handled(first)
    await workflow.deliver(workflow.envelope(payment(invoice, "pay-1", 2000), subject="pay-1"))
    partly = (await workflow.client.get(f"/workflow/invoices/{invoice_id}")).json()
    assert (partly["paid_minor"], partly["balance_minor"]) == (2000, 3000)
    assert partly["status"]["name"] == "Order Entered"

    await workflow.deliver(workflow.envelope(payment(invoice, "pay-2", 3000), subject="pay-2"))
    paid = (await workflow.client.get(f"/workflow/invoices/{invoice_id}")).json()
    assert paid["balance_minor"] == 0
    assert paid["status"]["name"] == "Paid"
    assert len(paid["payments"]) == 2
    history = (await workflow.client.get(f"/workflow/invoices/{invoice_id}/history")).json()
    assert [h["to_status_name"] for h in history] == ["Order Entered", "Paid"]
    assert history[-1]["result"] == "paid in full"

    refund = PaymentRefunded(**{**payment(invoice, "pay-2", 3000).model_dump()})
    await workflow.deliver(workflow.envelope(refund, subject="pay-2"))
    refunded = (await workflow.client.get(f"/workflow/invoices/{invoice_id}")).json()
    assert refunded["balance_minor"] == 3000


async def test_two_partial_refunds_leave_the_rest_paid(workflow: Workflow) -> None:
    invoice = await create_invoice(workflow)  # 5000
    invoice_id = invoice["invoice_id"]
    await workflow.deliver(workflow.envelope(payment(invoice, "pay-r", 5000), subject="pay-r"))

    def refund(refund_id: str, amount: int, total: int) -> PaymentRefunded:
        return PaymentRefunded(
            **payment(invoice, "pay-r", 5000).model_dump(),
            refund_id=refund_id,
            refund_minor=amount,
            refunded_total_minor=total,
        )

    first = workflow.envelope(refund("rf-1", 1500, 1500), subject="pay-r")
    await workflow.deliver(first)
    await workflow.deliver(first)  # delivered twice: applied once
    await workflow.deliver(workflow.envelope(refund("rf-2", 1000, 2500), subject="pay-r"))
    after = (await workflow.client.get(f"/workflow/invoices/{invoice_id}")).json()
    assert (after["paid_minor"], after["balance_minor"]) == (2500, 2500)
    refunds = [p for p in after["payments"] if p["outcome"] == "refunded"]
    assert sorted(p["amount_minor"] for p in refunds) == [1000, 1500]


async def test_bad_invoices_are_refused_with_a_clear_4xx(workflow: Workflow) -> None:
    prices = await price_list(workflow)
    print_id = product(prices, "8x10 print")

    async def attempt(**changes: Any) -> Any:
        body = {
            "client_id": "c",
            "price_list_id": prices["id"],
            "lines": [{"product_id": print_id, "quantity": 1}],
            **changes,
        }
        return await workflow.client.post("/workflow/invoices", json=body)

    unknown_list = await attempt(price_list_id="nope")
    assert (unknown_list.status_code, unknown_list.json()["error"]) == (422, "unprocessable")
    unknown_product = await attempt(lines=[{"product_id": "ghost", "quantity": 1}])
    assert unknown_product.status_code == 422
    assert "ghost" in unknown_product.json()["message"]
    too_much = await attempt(discounts=[{"description": "x", "amount_minor": 2501}])
    assert too_much.status_code == 422
    assert "exceed" in too_much.json()["message"]
    both = await attempt(discounts=[{"description": "x", "amount_minor": 1, "percent": "5"}])
    assert both.json()["error"] == "validation_error"
    zero = await attempt(lines=[{"product_id": print_id, "quantity": 0}])
    assert zero.status_code == 422
    outside = await attempt(
        lines=[
            {
                "product_id": print_id,
                "quantity": 1,
                "crop": {"x": 0.5, "y": 0, "width": 0.8, "height": 1},
            }
        ]
    )
    assert outside.status_code == 422
    tax = await attempt(tax_rate_percent="101")
    assert tax.status_code == 422
    no_lines = await attempt(lines=[])
    assert no_lines.status_code == 422
    assert (await workflow.client.get("/workflow/invoices")).json() == []

    invoice = await create_invoice(workflow)
    session_status = "default-session-02"
    wrong_kind = await workflow.client.post(
        f"/workflow/invoices/{invoice['invoice_id']}/status", json={"to_status_id": session_status}
    )
    assert wrong_kind.status_code == 422
    assert (await workflow.client.get("/workflow/invoices/none")).status_code == 404
    bad_currency = await workflow.client.post(
        "/workflow/price-lists", json={"name": "x", "currency": "dollars"}
    )
    assert bad_currency.status_code == 422


async def test_a_sessions_deposit_counts_toward_its_invoice_so_it_is_not_paid_twice(
    workflow: Workflow,
) -> None:
    session_id = "s-deposit"
    deposit = PaymentSucceeded(
        payment_id="pay-deposit",
        client_id="client-3",
        amount_minor=5000,
        currency="usd",
        session_id=session_id,
    )
    paid_at_booking = workflow.envelope(deposit, subject="pay-deposit")
    await workflow.deliver(paid_at_booking)
    await workflow.deliver(paid_at_booking)  # delivered twice: counted once
    prices = await price_list(workflow)
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-3",
            "session_id": session_id,
            "price_list_id": prices["id"],
            "lines": [{"product_id": product(prices, "8x10 print"), "quantity": 8}],
        },
    )
    assert answer.status_code == 201, answer.text
    invoice = answer.json()  # 8 x 25.00 = 200.00
    assert invoice["total_minor"] == 20000
    assert (invoice["paid_minor"], invoice["balance_minor"]) == (5000, 15000)
    assert [(p["kind"], p["amount_minor"]) for p in invoice["payments"]] == [("deposit", 5000)]
    assert invoice["status"]["name"] == "Order Entered"
    # A second invoice of the session is not credited the same deposit again.
    second = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-3",
            "session_id": session_id,
            "price_list_id": prices["id"],
            "lines": [{"product_id": product(prices, "8x10 print"), "quantity": 1}],
        },
    )
    assert (second.json()["paid_minor"], second.json()["balance_minor"]) == (0, 2500)

    balance = PaymentSucceeded(
        payment_id="pay-balance",
        client_id="client-3",
        amount_minor=15000,
        currency="usd",
        session_id=session_id,
        invoice_id=invoice["invoice_id"],
    )
    await workflow.deliver(workflow.envelope(balance, subject="pay-balance"))
    after = (await workflow.client.get(f"/workflow/invoices/{invoice['invoice_id']}")).json()
    assert (after["paid_minor"], after["balance_minor"]) == (20000, 0)
    assert after["status"]["name"] == "Paid"
    listed = (
        await workflow.client.get("/workflow/invoices", params={"session_id": session_id})
    ).json()
    assert sorted(i["paid_minor"] for i in listed) == [0, 20000]


async def test_a_deposit_refunded_on_cancellation_no_longer_counts_toward_the_invoice(
    workflow: Workflow,
) -> None:
    session_id = "s-refunded-deposit"
    common = {
        "payment_id": "pay-d2",
        "client_id": "client-4",
        "amount_minor": 5000,
        "currency": "usd",
        "session_id": session_id,
    }
    await workflow.deliver(workflow.envelope(PaymentSucceeded(**common), subject="pay-d2"))
    await workflow.deliver(
        workflow.envelope(
            PaymentRefunded(
                **common, refund_id="pay-d2-cancelled", refund_minor=5000, refunded_total_minor=5000
            ),
            subject="pay-d2",
        )
    )
    prices = await price_list(workflow)
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-4",
            "session_id": session_id,
            "price_list_id": prices["id"],
            "lines": [{"product_id": product(prices, "8x10 print"), "quantity": 2}],
        },
    )
    invoice = answer.json()
    assert (invoice["paid_minor"], invoice["balance_minor"]) == (0, 5000)
    assert sorted(p["outcome"] for p in invoice["payments"]) == ["refunded", "succeeded"]
