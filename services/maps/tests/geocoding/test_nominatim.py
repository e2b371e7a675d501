"""With Nominatim configured, a studio's addresses are placed at street level; Nominatim is
asked with our user agent, no faster than its policy allows, and only on a cache miss. A
stand-in Nominatim on loopback answers, so the test needs no network."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kit.testing import build_app, running

USER_AGENT = "studio-tests/1.0 (maps)"
INTERVAL = 0.3


class StandIn(BaseHTTPRequestHandler):
    seen: list[tuple[float, dict[str, str], str]]

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self.seen.append((time.monotonic(), query, self.headers.get("User-Agent", "")))
        street = query.get("street", "")
        if "BROKEN" in street:
            self.send_response(500)
            self.end_headers()
            return
        found = (
            [{"lat": "51.5034", "lon": "-0.1276", "display_name": "10 Downing Street"}]
            if "DOWNING" in street
            else []
        )
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def nominatim() -> Iterator[tuple[str, list[tuple[float, dict[str, str], str]]]]:
    seen: list[tuple[float, dict[str, str], str]] = []
    handler = type("Handler", (StandIn,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_nominatim_places_addresses_politely_and_zip_centroids_catch_what_it_misses(
    maps: Any, nominatim: tuple[str, list[tuple[float, dict[str, str], str]]]
) -> None:
    url, seen = nominatim
    await maps.add_client("pm", street="10 Downing Street", postal_code="SW1A 2AA", country="UK")
    await maps.add_client("roc", street="1 Elm St", postal_code="14623")
    await maps.add_client("broken", street="1 Broken Rd", postal_code="99999", country="UK")
    app = build_app(
        "maps",
        database=maps.db.name,
        geocoders=["nominatim", "zipcodes"],
        nominatim_url=url,
        nominatim_user_agent=USER_AGENT,
        nominatim_min_interval_seconds=INTERVAL,
    )
    body = {"selection": {"client_ids": ["pm", "roc", "broken"]}}
    async with running(app) as client:
        summary = (await client.post("/maps/address-pins", json=body)).json()
        features = json.loads((await client.get(summary["geojson_path"])).text)["features"]
        again = (await client.post("/maps/address-pins", json=body)).json()

    placed = {f["properties"]["client_id"]: f for f in features}
    assert placed["pm"]["geometry"]["coordinates"] == [-0.1276, 51.5034]
    assert placed["pm"]["properties"]["precision"] == "address"
    assert placed["roc"]["properties"]["precision"] == "postal_code"  # Nominatim: none; ZIP: yes
    assert [(o["client_id"], o["reason"]) for o in summary["omitted"]] == [
        ("broken", "geocoder_unavailable")
    ]
    # The unavailable one is neither cached nor counted; the next map asks only for it.
    assert summary["usage"]["location_lookups"] == 2
    assert again["usage"]["location_lookups"] == 0
    assert await maps.db["geocode_cache"].count_documents({}) == 2

    asked = [query.get("street") for _, query, _ in seen]
    assert sorted(set(asked)) == ["1 BROKEN RD", "1 ELM ST", "10 DOWNING ST"]
    assert asked.count("10 DOWNING ST") == 1
    assert asked.count("1 ELM ST") == 1
    assert {agent for _, _, agent in seen} == {USER_AGENT}
    moments = [moment for moment, _, _ in seen]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps
