"""Maps: server time and page size of a 10,000-client heat map and a 1,000-client address pin
map with warm caches, next to plain folium drawing the same points in the same run.

    set -a; . .local/test/env; set +a; .venv/bin/python bench/maps_render.py

"Server time" is one POST through the app in-process (ASGI): selection from the projection,
cache look-ups, the page and the GeoJSON drawn in a worker thread, the stored render and the
ledger entry. The anchor is folium alone, given the same points (read back from the map's
GeoJSON): Map + HeatMap, or Map + MarkerCluster + one Marker with a tooltip per client.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import folium
from _harness import report, summary
from folium.plugins import HeatMap, MarkerCluster

from kit.events.contracts.booking import ClientCreated, PostalAddress
from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.testing import build_app, running
from maps.clients.repository import client_fields
from maps.geocoding.address import normalise
from maps.geocoding.providers import _zip_centroids

HEAT_CLIENTS = 10_000
PIN_CLIENTS = 1_000
REPEATS = 5


def clients(count: int) -> list[dict[str, Any]]:
    """Projected clients at distinct street addresses over 2,000 real ZIP codes."""
    zips = sorted(_zip_centroids())[::20][:2000]
    documents = []
    for i in range(count):
        record = ClientCreated(
            client_id=f"c{i:05d}",
            first_name=f"Client {i}",
            last_name="Bench",
            tags=["pins"] if i < PIN_CLIENTS else [],
            address=PostalAddress(street=f"{i + 1} Main Street", postal_code=zips[i % len(zips)]),
        )
        postal = normalise(record.address, default_country="US").postal_code
        documents.append({"_id": record.client_id, **client_fields(record, postal)})
    return documents


def plain_heat(points: list[list[float]]) -> str:
    figure = folium.Map(location=[39.8, -98.6], zoom_start=4)
    HeatMap(points, radius=18, blur=14).add_to(figure)
    return str(figure.get_root().render())


def plain_pins(pins: list[tuple[list[float], str]]) -> str:
    figure = folium.Map(location=[39.8, -98.6], zoom_start=4)
    cluster = MarkerCluster().add_to(figure)
    for position, name in pins:
        folium.Marker(position, tooltip=name).add_to(cluster)
    return str(figure.get_root().render())


def timed(draw: Callable[[Any], str], points: Any) -> tuple[float, str]:
    start = time.perf_counter()
    page = draw(points)
    return time.perf_counter() - start, page


async def main() -> None:
    infra = InfraSettings()
    database = f"bench_maps_{uuid.uuid4().hex[:8]}"
    mongo = connect_mongo(infra.mongo_url, app_name="bench-maps")
    app = build_app("maps", database=database)
    figures: dict[str, Any] = {}
    rows = [("map", "ours (server)", "plain folium")]
    try:
        await mongo[database]["clients"].insert_many(clients(HEAT_CLIENTS))
        async with running(app) as http:
            cases = [
                ("heat_10000", "heat", {"selection": {"filter": {}}}),
                (
                    "address_pins_1000",
                    "address-pins",
                    {"selection": {"filter": {"tags": ["pins"]}}},
                ),
            ]
            for name, kind, body in cases:
                cold_start = time.perf_counter()
                cold = await http.post(f"/maps/{kind}", json=body)
                cold_seconds = time.perf_counter() - cold_start
                assert cold.status_code == 201, cold.text
                ours: list[float] = []
                for _ in range(REPEATS):
                    start = time.perf_counter()
                    response = await http.post(f"/maps/{kind}", json=body)
                    ours.append(time.perf_counter() - start)
                    assert response.status_code == 201
                    assert response.json()["usage"]["location_lookups"] == 0  # warm
                render = response.json()
                page = (await http.get(render["html_path"])).text
                features = json.loads((await http.get(render["geojson_path"])).text)["features"]
                positions = [f["geometry"]["coordinates"][::-1] for f in features]
                if kind == "heat":
                    plain = [timed(plain_heat, positions) for _ in range(REPEATS)]
                else:
                    names = [f["properties"]["name"] for f in features]
                    pins = list(zip(positions, names, strict=True))
                    plain = [timed(plain_pins, pins) for _ in range(REPEATS)]
                plain_seconds = [seconds for seconds, _ in plain]
                plain_page = plain[-1][1]
                ours_s, plain_s = summary(ours), summary(plain_seconds)
                figures[name] = {
                    "points": render["points"],
                    "server_seconds": ours_s,
                    "cold_server_seconds": round(cold_seconds, 3),
                    "plain_folium_seconds": plain_s,
                    "time_ratio": round(ours_s["median"] / plain_s["median"], 2),
                    "html_bytes": len(page.encode()),
                    "plain_html_bytes": len(plain_page.encode()),
                    "html_size_ratio": round(len(page) / len(plain_page), 3),
                }
                rows.append(
                    (
                        f"{name} time (median of {REPEATS})",
                        f"{ours_s['median'] * 1000:.0f} ms",
                        f"{plain_s['median'] * 1000:.0f} ms  (x{figures[name]['time_ratio']})",
                    )
                )
                rows.append(
                    (
                        f"{name} page size",
                        f"{len(page.encode()) / 1024:.0f} KiB",
                        f"{len(plain_page.encode()) / 1024:.0f} KiB  "
                        f"(x{figures[name]['html_size_ratio']})",
                    )
                )
    finally:
        await mongo.drop_database(database)
        await mongo.close()
    report("maps_render", rows, figures)


if __name__ == "__main__":
    asyncio.run(main())
