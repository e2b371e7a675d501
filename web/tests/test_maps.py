"""Maps without a browser: owner and marketing open it, staff does not; a heat map of tagged
clients is made through the form and its page embeds the map's HTML (streamed through the web
app), links its GeoJSON and shows the usage ledger; over-limit or refused input is shown on
the form with the input kept."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urljoin

import httpx
from web_harness import WebClient, WebPlatform, html, text_of


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
    studio: WebPlatform, owner: WebClient, marketing: WebClient
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
    # The sandboxed frame fetches its libraries with no cookie: each must answer without one.
    frame_url = studio.web + (frame.attributes["src"] or "")
    named = html(embedded)
    libraries = [n.attributes["src"] or "" for n in named.css("script[src]")] + [
        n.attributes["href"] or "" for n in named.css("link[rel=stylesheet]")
    ]
    async with httpx.AsyncClient() as no_cookie:
        fetched = {url: await no_cookie.get(urljoin(frame_url, url)) for url in libraries}

    assert "1 of 1 clients" in text_of(page, "#summary")
    assert embedded.status_code == 200
    assert "leaflet" in embedded.text.lower()
    policy = embedded.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'self'" in policy
    assert any(url.endswith("leaflet/leaflet.js") for url in libraries), libraries
    assert any(url.endswith("leaflet-heat.min.js") for url in libraries), libraries
    for url, answer in fetched.items():
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:200])
        expected = "javascript" if url.endswith(".js") else "css"
        assert expected in answer.headers["content-type"], (url, answer.headers["content-type"])
        assert "max-age" in answer.headers.get("cache-control", ""), url
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
