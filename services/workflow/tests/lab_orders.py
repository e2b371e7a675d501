"""A production order for a lab, made as the studio makes one: a price list whose product
names the lab, an invoice of it, the invoice sent to production."""

from __future__ import annotations

from workflow_harness import Workflow


async def production_order(
    workflow: Workflow,
    vendor: str,
    *,
    product: str = "8x10 print",
    image_ids: list[str] | None = None,
) -> str:
    prices = await workflow.client.post(
        "/workflow/price-lists",
        json={
            "name": f"Prints for {vendor}",
            "currency": "USD",
            "products": [
                {"name": product, "price_minor": 2500, "kind": "physical", "vendor": vendor}
            ],
        },
    )
    assert prices.status_code == 201, prices.text
    invoice = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-1",
            "price_list_id": prices.json()["id"],
            "lines": [
                {
                    "product_id": prices.json()["products"][0]["id"],
                    "quantity": 3,
                    "image_ids": image_ids or [],
                    "retouch_notes": "warm skin tones",
                }
            ],
        },
        headers={"X-User-Id": "ann"},
    )
    assert invoice.status_code == 201, invoice.text
    split = await workflow.client.post(
        "/workflow/production-orders",
        json={"invoice_ids": [invoice.json()["invoice_id"]]},
        headers={"X-User-Id": "ann"},
    )
    assert split.status_code == 201, split.text
    order_id: str = split.json()["production_orders"][0]["production_order_id"]
    return order_id
