"""Production orders: invoices split by preferred vendor, combined, with their own pipeline."""

from __future__ import annotations

from typing import Any

from workflow_harness import Workflow

from kit.events.contracts.workflow import ProductionOrderStatusChanged


async def prices(workflow: Workflow) -> dict[str, str]:
    answer = await workflow.client.post(
        "/workflow/price-lists",
        json={
            "name": "Lab products",
            "currency": "USD",
            "products": [
                {
                    "name": "8x10 print",
                    "price_minor": 2500,
                    "kind": "physical",
                    "vendor": "Miller's",
                },
                {"name": "Album", "price_minor": 60000, "kind": "physical", "vendor": "WHCC"},
                {"name": "Frame", "price_minor": 9000, "kind": "physical"},
                {"name": "Digital file", "price_minor": 4000, "kind": "digital"},
            ],
        },
    )
    body = answer.json()
    ids = {p["name"]: p["id"] for p in body["products"]}
    ids["_list"] = body["id"]
    return ids


async def invoice(workflow: Workflow, ids: dict[str, str], *names: str) -> str:
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-1",
            "price_list_id": ids["_list"],
            "lines": [
                {"product_id": ids[n], "quantity": 1, "image_ids": [f"img-{n}"], "retouch_notes": n}
                for n in names
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    invoice_id: str = answer.json()["invoice_id"]
    return invoice_id


async def test_invoices_combine_into_one_production_order_per_vendor_and_report_the_rest(
    workflow: Workflow,
) -> None:
    ids = await prices(workflow)
    first = await invoice(workflow, ids, "8x10 print", "Album", "Frame")
    second = await invoice(workflow, ids, "8x10 print", "Digital file")
    answer = await workflow.client.post(
        "/workflow/production-orders",
        json={"invoice_ids": [first, second], "studio_notes": "rush"},
    )
    assert answer.status_code == 201, answer.text
    split = answer.json()
    orders = {o["vendor"]: o for o in split["production_orders"]}
    assert set(orders) == {"Miller's", "WHCC"}
    millers = orders["Miller's"]
    assert sorted(millers["invoice_ids"]) == sorted([first, second])
    assert [line["product_name"] for line in millers["lines"]] == ["8x10 print", "8x10 print"]
    assert orders["WHCC"]["invoice_ids"] == [first]
    assert millers["studio_notes"] == "rush"
    assert millers["status"]["name"] == "Order Entered"
    assert {(u["product_name"], u["reason"]) for u in split["unassigned_lines"]} == {
        ("Frame", "no preferred vendor"),
        ("Digital file", "digital product"),
    }

    again = await workflow.client.post(
        "/workflow/production-orders", json={"invoice_ids": [second]}
    )
    assert again.status_code == 409
    assert second in again.json()["message"]


async def test_a_production_order_walks_its_own_pipeline_with_notes_and_history(
    workflow: Workflow,
) -> None:
    ids = await prices(workflow)
    invoice_id = await invoice(workflow, ids, "Album")
    split = (
        await workflow.client.post(
            "/workflow/production-orders", json={"invoice_ids": [invoice_id]}
        )
    ).json()
    order_id = split["production_orders"][0]["production_order_id"]
    noted = await workflow.client.patch(
        f"/workflow/production-orders/{order_id}", json={"vendor_notes": "ship by Friday"}
    )
    assert noted.json()["vendor_notes"] == "ship by Friday"

    names = []
    for _ in range(4):
        answer = await workflow.client.post(
            f"/workflow/production-orders/{order_id}/status", json={}, headers={"X-User-Id": "lab"}
        )
        assert answer.status_code == 200, answer.text
        names.append(answer.json()["status"]["name"])
    assert names == ["Sent to Lab", "Received from Lab", "Ready for Pickup", "Delivered"]
    assert answer.json()["closed"] is True
    history = (await workflow.client.get(f"/workflow/production-orders/{order_id}/history")).json()
    assert len(history) == 5
    events = await workflow.workflow_events(order_id, 5)
    assert {e.type for e in events} == {ProductionOrderStatusChanged.event_type}
    assert events[-1].payload(ProductionOrderStatusChanged).to_status_name == "Delivered"
    listed = (
        await workflow.client.get("/workflow/production-orders", params={"invoice_id": invoice_id})
    ).json()
    assert [o["production_order_id"] for o in listed] == [order_id]


async def test_bad_production_requests_are_refused_and_claim_nothing(workflow: Workflow) -> None:
    ids = await prices(workflow)
    vendorless = await invoice(workflow, ids, "Frame", "Digital file")
    nothing_to_send = await workflow.client.post(
        "/workflow/production-orders", json={"invoice_ids": [vendorless]}
    )
    assert nothing_to_send.status_code == 422
    assert len(nothing_to_send.json()["detail"]["unassigned_lines"]) == 2

    good = await invoice(workflow, ids, "Album")
    unknown = await workflow.client.post(
        "/workflow/production-orders", json={"invoice_ids": [good, "inv-ghost"]}
    )
    assert unknown.status_code == 422
    assert "inv-ghost" in unknown.json()["message"]
    empty = await workflow.client.post("/workflow/production-orders", json={"invoice_ids": []})
    assert empty.status_code == 422
    # The refused requests claimed nothing: the good invoice can still go to production.
    ok = await workflow.client.post("/workflow/production-orders", json={"invoice_ids": [good]})
    assert ok.status_code == 201
    missing = await workflow.client.get("/workflow/production-orders/po-none")
    assert missing.status_code == 404
    bad_notes: Any = await workflow.client.patch(
        "/workflow/production-orders/po-none", json={"vendor_notes": "x"}
    )
    assert bad_notes.status_code == 404
