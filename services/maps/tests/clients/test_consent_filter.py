"""Marketing picks its map's clients by consent: booking's client events carry
`marketing_consent`, the projection keeps the last one, and a filter with
`marketing_consent: true` shows only the clients who agreed (a withdrawal takes one off, a
client whose events never said is never taken for consenting)."""

from __future__ import annotations

from typing import Any

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import ClientCreated, ClientUpdated, PostalAddress
from kit.events.envelope import Envelope, source_of


async def client_event(
    maps: Any, kind: type[ClientCreated] | type[ClientUpdated], **fields: Any
) -> None:
    event = kind(
        address=PostalAddress(street=f"1 {fields['client_id']} Street", postal_code="14623"),
        tags=["senior"],
        **fields,
    )
    envelope = Envelope.wrap(event, subject=event.client_id, source=source_of("booking"))
    await maps.handlers.client_changed(event, HandlerContext(envelope))


async def test_a_map_of_consenting_clients_leaves_out_the_others_and_a_withdrawal(
    maps: Any,
) -> None:
    await client_event(
        maps, ClientCreated, client_id="yes", last_name="Yes", marketing_consent=True
    )
    await client_event(maps, ClientCreated, client_id="no", last_name="No", marketing_consent=False)
    # An event from before booking said consent (the field is optional): unknown.
    await client_event(maps, ClientCreated, client_id="old", last_name="Old")
    await client_event(
        maps, ClientCreated, client_id="quits", last_name="Quits", marketing_consent=True
    )

    async def chosen(**filter_: Any) -> list[str]:
        summary = await maps.drawn("address-pins", {"selection": {"filter": filter_}})
        return sorted(f["properties"]["client_id"] for f in await maps.features(summary))

    assert await chosen() == ["no", "old", "quits", "yes"]
    assert await chosen(marketing_consent=True) == ["quits", "yes"]
    assert await chosen(marketing_consent=False) == ["no", "old"]
    assert await chosen(marketing_consent=True, tags=["senior"]) == ["quits", "yes"]

    await client_event(
        maps, ClientUpdated, client_id="quits", last_name="Quits", marketing_consent=False
    )
    assert await chosen(marketing_consent=True) == ["yes"]
    heat = await maps.drawn("heat", {"selection": {"filter": {"marketing_consent": True}}})
    assert heat["clients_selected"] == 1

    projected = (await maps.http.get("/clients/quits")).json()
    assert projected["marketing_consent"] is False
    assert (await maps.http.get("/clients/old")).json()["marketing_consent"] is None

    bad = await maps.draw("heat", {"selection": {"filter": {"marketing_consent": "perhaps"}}})
    assert bad.status_code == 422
    assert set(bad.json()) == {"error", "message", "detail", "request_id"}
