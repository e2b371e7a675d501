"""Maps without a browser: owner and marketing open it, staff does not; a heat map of tagged
clients is made through the form and its page embeds the map's HTML (streamed through the web
app), links its GeoJSON and shows the usage ledger; over-limit or refused input is shown on
the form with the input kept."""

from __future__ import annotations

import asyncio
import uuid

from web_harness import WebClient, html, text_of


async def _tagged_client(owner: WebClient, tag: str) -> None:
    await owner.get("/clients/new")
    made = await owner.post(
        "/clients/new",
        {
            "first_name": "Map",
            "last_name": f"Pin{tag}",
            "postal_code": "14623",
            "tags": tag,
            "country": "US",
        },
    )
    assert made.status_code == 303, made.text


async def test_maps_open_for_owner_and_marketing_only(
    owner: WebClient, staff: WebClient, marketing: WebClient
) -> None:
    assert (await owner.get("/maps")).status_code == 200
    assert (await marketing.get("/maps")).status_code == 200
    assert (await staff.get("/maps")).status_code == 403


async def test_a_heat_map_is_made_embedded_and_counted_in_the_ledger(
    owner: WebClient, marketing: WebClient
) -> None:
    tag = f"map{uuid.uuid4().hex[:6]}"
    await _tagged_client(owner, tag)
    await marketing.get("/maps")
    for _ in range(100):  # maps learns of the client from booking's event
        made = await marketing.post("/maps", {"kind": "heat", "title": f"Heat {tag}", "tags": tag})
        if made.status_code == 303:
            page = await marketing.get(made.headers["location"])
            if "1 of 1 clients" in text_of(page, "#summary"):
                break
        await asyncio.sleep(0.2)
    assert made.status_code == 303, made.text

    frame = html(page).css_first("iframe.map-frame")
    assert frame is not None
    embedded = await marketing.get(frame.attributes["src"] or "")
    geojson = await marketing.get(made.headers["location"] + "/map.geojson")

    assert "1 of 1 clients" in text_of(page, "#summary")
    assert embedded.status_code == 200
    assert "leaflet" in embedded.text.lower()
    assert geojson.status_code == 200
    assert geojson.json()["type"] == "FeatureCollection"
    assert html(page).css_first("#usage tbody tr") is not None


async def test_a_refused_map_is_shown_on_the_form_with_the_input_kept(
    marketing: WebClient,
) -> None:
    await marketing.get("/maps")
    refused = await marketing.post(
        "/maps", {"kind": "heat", "title": "x" * 300, "postal_code_prefix": "146"}
    )

    assert refused.status_code == 422
    assert html(refused).css_first("#e-title") is not None
    assert html(refused).css_first("#f-postal_code_prefix").attributes["value"] == "146"
