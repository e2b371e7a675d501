"""An invoice receipt carries the invoice as the PDF workflow prints, read through workflow's
real API; the mail's record keeps the PDF's SHA-256, so the mailed invoice can be proved."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from notify_events import client, envelope

from kit.events.consumer import HandlerContext
from kit.events.contracts import booking, workflow
from kit.settings import InfraSettings
from kit.testing import build_app, served
from workflow.context import context_of
from workflow.sessions.service import SessionService


async def test_an_invoice_receipt_carries_the_invoice_pdf_and_keeps_its_hash(
    notify_with: object, infra: InfraSettings, unique: str, mongo: object
) -> None:
    workflow_app = build_app("workflow", database=f"t_notify_wf_{unique}", infra=infra)
    try:
        async with served(workflow_app, lifespan="on") as workflow_url:
            invoice_id = await _invoice(workflow_app, workflow_url, f"ses_{unique}")
            async with notify_with(workflow_url=workflow_url) as notify:  # type: ignore[operator]
                await notify.deliver(client("cli_1", email="ada@example.com"))
                await notify.deliver(
                    envelope(
                        workflow.InvoiceCreated(
                            invoice_id=invoice_id,
                            client_id="cli_1",
                            session_id=f"ses_{unique}",
                            currency="USD",
                            total_minor=5000,
                            amount_due_minor=5000,
                            created_at=datetime.now(UTC),
                        ),
                        invoice_id,
                        service="workflow",
                    )
                )
                await notify.deliver(
                    envelope(
                        booking.PaymentSucceeded(
                            payment_id="pay_1",
                            client_id="cli_1",
                            amount_minor=5000,
                            currency="usd",
                            invoice_id=invoice_id,
                        ),
                        "pay_1",
                    )
                )
                assert (await notify.dispatch()).sent == 1
                [mail] = notify.inbox.to("ada@example.com")
                [pdf] = list(mail.iter_attachments())
                content = pdf.get_content()
                assert pdf.get_filename() == f"invoice-{invoice_id}.pdf"
                assert content.startswith(b"%PDF-")
                action = await notify.action_of("invoice-receipt")
                digest = hashlib.sha256(content).hexdigest()
                assert action["attachments"] == [
                    {"filename": f"invoice-{invoice_id}.pdf", "sha256": digest}
                ]
                assert action["_outbox"][0]["data"]["attachment_sha256"] == [digest]
                printed = workflow_app.state.platform.db["documents"]
                assert await printed.find_one({"sha256": digest}) is not None
    finally:
        await mongo.drop_database(f"t_notify_wf_{unique}")  # type: ignore[attr-defined]


async def test_a_receipt_waits_while_workflow_cannot_print_the_invoice(
    notify_with: object,
) -> None:
    async with notify_with(workflow_url="http://127.0.0.1:9", retry_seconds=60) as notify:  # type: ignore[operator]
        await notify.deliver(client("cli_1", email="ada@example.com"))
        await notify.deliver(
            envelope(
                booking.PaymentSucceeded(
                    payment_id="pay_2",
                    client_id="cli_1",
                    amount_minor=5000,
                    currency="usd",
                    invoice_id="inv_away",
                ),
                "pay_2",
            )
        )
        report = await notify.dispatch()
        assert (report.sent, report.retried) == (0, 1)
        action = await notify.action_of("invoice-receipt")
        assert action["state"] == "scheduled"
        assert "the invoice cannot be printed now" in action["last_error"]
        assert notify.inbox.messages == []


async def _invoice(app: object, url: str, session_id: str) -> str:
    import httpx

    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = booking.SessionBooked(
        session_id=session_id,
        session_number="N-1",
        client_id="cli_1",
        session_type_id="portrait",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    context = context_of(app.state.platform)  # type: ignore[attr-defined]
    await SessionService(context).session_scheduled(
        booked, HandlerContext(envelope(booked, session_id))
    )
    async with httpx.AsyncClient(base_url=url, headers={"X-User-Id": "ann"}) as http:
        prices = await http.post(
            "/workflow/price-lists",
            json={
                "name": "Prints",
                "currency": "USD",
                "products": [{"name": "8x10 print", "price_minor": 2500, "kind": "physical"}],
            },
        )
        assert prices.status_code == 201, prices.text
        made = await http.post(
            "/workflow/invoices",
            json={
                "client_id": "cli_1",
                "session_id": session_id,
                "price_list_id": prices.json()["id"],
                "lines": [{"product_id": prices.json()["products"][0]["id"], "quantity": 2}],
            },
        )
        assert made.status_code == 201, made.text
        invoice_id: str = made.json()["invoice_id"]
        return invoice_id
