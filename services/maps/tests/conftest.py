"""The maps service in-process against the real servers, with helpers to feed its projection
through the real event handlers and to read what a drawn map carries."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import geojson
import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import (
    ClientCreated,
    ClientDeleted,
    PostalAddress,
    SessionBooked,
    SessionCancelled,
)
from kit.events.envelope import Envelope, EventPayload, source_of
from kit.mongo import Document
from kit.testing import build_app, running
from maps.clients.handlers import ProjectionHandlers
from maps.clients.repository import ClientProjection

# Real US ZIP codes (Rochester NY, Boston MA, Chicago IL, Seattle WA, Austin TX, Miami FL).
ZIPS = ["14623", "02134", "60614", "98101", "78701", "33101"]


def envelope(payload: EventPayload, subject: str) -> Envelope:
    return Envelope.wrap(payload, subject=subject, source=source_of("booking"))


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "script" and not dict(attrs).get("src")
        if self.inside:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.scripts[-1] += data


def inline_script(page: str) -> str:
    parser = _Scripts()
    parser.feed(page)
    return "\n".join(parser.scripts)


def heat_points(page: str) -> list[list[float]]:
    """The points of the page's Leaflet heat layers."""
    points: list[list[float]] = []
    for match in re.finditer(r"L\.heatLayer\(\s*(\[.*?\])\s*,\s*\{", inline_script(page), re.S):
        points += json.loads(match.group(1))
    return points


def markers(page: str, kind: str = "marker") -> list[list[float]]:
    """The positions of the page's `L.<kind>(...)` layers."""
    pattern = rf"L\.{kind}\(\s*(\[[-\d.eE]+,\s*[-\d.eE]+\])"
    return [json.loads(m.group(1)) for m in re.finditer(pattern, inline_script(page))]


def tooltips(page: str) -> list[str]:
    found = re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", inline_script(page), re.S)
    return [str(text) for text in found]


@dataclass
class Maps:
    http: httpx.AsyncClient
    db: AsyncDatabase[Document]

    zips = ZIPS
    # What a drawn page carries: maps.heat_points(page), ...
    heat_points = staticmethod(heat_points)
    markers = staticmethod(markers)
    tooltips = staticmethod(tooltips)

    @property
    def handlers(self) -> ProjectionHandlers:
        return ProjectionHandlers(ClientProjection(self.db), default_country="US")

    async def add_client(
        self,
        client_id: str,
        *,
        street: str | None = "1 Main St",
        postal_code: str | None = "14623",
        city: str | None = None,
        country: str | None = None,
        first_name: str | None = "Ann",
        tags: list[str] | None = None,
        organization: str | None = None,
        address: bool = True,
    ) -> None:
        event = ClientCreated(
            client_id=client_id,
            first_name=first_name,
            last_name=client_id,
            organization=organization,
            tags=tags or [],
            address=PostalAddress(
                street=street, city=city, postal_code=postal_code, country=country
            )
            if address
            else None,
        )
        await self.handlers.client_changed(event, HandlerContext(envelope(event, client_id)))

    async def add_clients(self, count: int, prefix: str = "c", **fields: Any) -> list[str]:
        """`count` clients at distinct addresses spread over the ZIPS."""
        ids = [f"{prefix}{i:05d}" for i in range(count)]
        for start in range(0, count, 50):  # a few at a time, as a consumer's partitions would
            await asyncio.gather(
                *(
                    self.add_client(
                        client_id,
                        street=f"{i + 1} Elm Street",
                        postal_code=ZIPS[i % len(ZIPS)],
                        **fields,
                    )
                    for i, client_id in enumerate(ids[start : start + 50], start)
                )
            )
        return ids

    async def delete_client(self, client_id: str) -> None:
        event = ClientDeleted(client_id=client_id)
        await self.handlers.client_deleted(event, HandlerContext(envelope(event, client_id)))

    async def book(
        self, session_id: str, client_id: str, session_type_id: str, starts_at: datetime
    ) -> None:
        event = SessionBooked(
            session_id=session_id,
            session_number=session_id,
            client_id=client_id,
            session_type_id=session_type_id,
            starts_at=starts_at,
            ends_at=starts_at,
        )
        await self.handlers.session_changed(event, HandlerContext(envelope(event, session_id)))

    async def cancel(self, session_id: str) -> None:
        event = SessionCancelled(session_id=session_id, session_number=session_id)
        await self.handlers.session_cancelled(event, HandlerContext(envelope(event, session_id)))

    async def draw(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/maps/{kind}", json=body)

    async def drawn(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.draw(kind, body)
        assert response.status_code == 201, response.text
        summary: dict[str, Any] = response.json()
        return summary

    async def page(self, summary: dict[str, Any]) -> str:
        response = await self.http.get(summary["html_path"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        return response.text

    async def features(self, summary: dict[str, Any]) -> list[dict[str, Any]]:
        """The map's GeoJSON, checked against RFC 7946, as a list of features."""
        response = await self.http.get(summary["geojson_path"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        collection = geojson.loads(response.text)
        assert isinstance(collection, geojson.FeatureCollection)
        assert collection.is_valid, collection.errors()
        for feature in collection["features"]:
            assert feature["geometry"]["type"] == "Point"
            longitude, latitude = feature["geometry"]["coordinates"]
            assert -180 <= longitude <= 180
            assert -90 <= latitude <= 90
        features: list[dict[str, Any]] = json.loads(response.text)["features"]
        return features

    async def usage_this_month(self) -> dict[str, int]:
        month = datetime.now(UTC).strftime("%Y-%m")
        report = (await self.http.get("/usage", params={"since": month, "until": month})).json()
        return {
            "location_lookups": report["location_lookups"],
            "map_lookups": report["map_lookups"],
        }


@pytest.fixture
async def maps(unique: str, mongo: AsyncMongoClient[Document]) -> AsyncIterator[Maps]:
    database = f"t_{unique}"
    app = build_app("maps", database=database)
    try:
        async with running(app) as client:
            yield Maps(client, mongo[database])
    finally:
        await mongo.drop_database(database)
