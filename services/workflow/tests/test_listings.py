"""Listings and their offsets (`make fuzz` found an offset past 64 bits answered 500: MongoDB's
skip is a 64-bit integer, and PyMongo refused to send the query)."""

from __future__ import annotations

from workflow_harness import Workflow

LISTINGS = ("/workflow/sessions", "/workflow/invoices", "/workflow/production-orders")


async def test_an_absurd_offset_is_a_clear_422_and_one_past_the_end_an_empty_page(
    workflow: Workflow,
) -> None:
    for path in LISTINGS:
        absurd = await workflow.client.get(path, params={"offset": 2**70})
        assert absurd.status_code == 422, path
        assert absurd.json()["error"] == "validation_error"
        assert absurd.json()["detail"][0]["location"] == ["query", "offset"]

        past_the_end = await workflow.client.get(path, params={"offset": 10_000_000})
        assert (past_the_end.status_code, past_the_end.json()) == (200, []), path
