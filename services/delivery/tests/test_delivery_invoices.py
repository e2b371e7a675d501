"""The client downloads the session's invoice from the delivery page, as the PDF workflow prints,
when the studio asked for it with the delivery; other sessions' invoices and deliveries without
them answer 404; with a PIN, the PIN first."""

from __future__ import annotations

from typing import Any

import httpx
from workflow_peer import booked_with_images, through_workflow, workflow_service

from workflow.context import context_of as workflow_context

HTML = {"accept": "text/html"}


async def _invoice(workflow: httpx.AsyncClient, session_id: str) -> str:
    prices = await workflow.post(
        "/workflow/price-lists",
        json={
            "name": f"Prints {session_id}",
            "currency": "USD",
            "products": [{"name": "8x10 print", "price_minor": 2500, "kind": "physical"}],
        },
    )
    assert prices.status_code == 201, prices.text
    answer = await workflow.post(
        "/workflow/invoices",
        json={
            "client_id": "client-1",
            "session_id": session_id,
            "price_list_id": prices.json()["id"],
            "lines": [{"product_id": prices.json()["products"][0]["id"], "quantity": 2}],
        },
        headers={"X-User-Id": "ann"},
    )
    assert answer.status_code == 201, answer.text
    invoice_id: str = answer.json()["invoice_id"]
    return invoice_id


async def _ready(service: Any, session_id: str, **request: Any) -> str:
    asked = await service.http.post(
        "/deliveries", json={"session_id": session_id, "folder": "hires", **request}
    )
    assert asked.status_code == 202, asked.text
    done = await service.settled(asked.json()["id"])
    assert done["status"] == "ready", done
    delivery_id: str = done["id"]
    return delivery_id


async def test_the_client_downloads_the_sessions_invoice_from_the_delivery_page(
    delivery_service: Any, unique: str
) -> None:
    session, other = f"inv-{unique}", f"oth-{unique}"
    async with (
        delivery_service() as service,
        workflow_service(unique, service.infra) as (wf_app, workflow),
    ):
        through_workflow(service, wf_app)
        wf = workflow_context(wf_app.state.platform)
        await booked_with_images(wf, workflow, session)
        await booked_with_images(wf, workflow, other)
        invoice_id = await _invoice(workflow, session)
        foreign_id = await _invoice(workflow, other)

        offered = await _ready(service, session, include_invoices=True)
        link = await service.issue(offered)
        path = service.path_of(link["url"])
        page = await service.http.get(path, headers=HTML)
        assert page.status_code == 200
        assert f'href="{path}/invoices/{invoice_id}.pdf"' in page.text
        assert foreign_id not in page.text
        pdf = await service.http.get(f"{path}/invoices/{invoice_id}.pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert f"invoice-{invoice_id}.pdf" in pdf.headers["content-disposition"]
        # Another session's invoice is not this link's to give.
        foreign = await service.http.get(f"{path}/invoices/{foreign_id}.pdf")
        assert foreign.status_code == 404
        assert foreign.json()["error"] == "not_found"

        # Without the studio's say-so, no invoices on the page or by their address.
        plain = await _ready(service, session)
        plain_path = service.path_of((await service.issue(plain))["url"])
        assert "/invoices/" not in (await service.http.get(plain_path, headers=HTML)).text
        assert (
            await service.http.get(f"{plain_path}/invoices/{invoice_id}.pdf")
        ).status_code == 404

        # A link with a PIN gives the invoice only once the PIN is given.
        locked = await service.issue(offered, pin="4321")
        locked_path = service.path_of(locked["url"])
        refused = await service.http.get(f"{locked_path}/invoices/{invoice_id}.pdf")
        assert refused.status_code == 403
        assert refused.json()["error"] == "pin_required"
