"""A drawn map's page loads Leaflet and its plugins from the maps service itself, no public CDN,
and is sent with a Content-Security-Policy that lets it run only its own inline scripts and
those libraries, `X-Content-Type-Options` and frame protection (issue 14)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.testing import build_app, running

from ..conftest import Maps, inline_script

KINDS = ("heat", "postal-code-pins", "address-pins")
CDNS = ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn.com")


class _Resources(HTMLParser):
    """Every URL the page fetches by itself: script sources and stylesheet links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("src"):
            self.urls.append(str(named["src"]))
        if tag == "link" and named.get("href"):
            self.urls.append(str(named["href"]))
        if tag == "img" and named.get("src"):
            self.urls.append(str(named["src"]))


def resources(page: str) -> list[str]:
    parser = _Resources()
    parser.feed(page)
    return parser.urls


def hosts(page: str) -> set[str]:
    """Every host any absolute URL in the page names (links, tiles, anything)."""
    return set(re.findall(r"(?:https?:)?//([A-Za-z0-9.-]+\.[A-Za-z]{2,})", page))


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def policy(answer: httpx.Response) -> dict[str, list[str]]:
    directives = [d.split() for d in answer.headers["content-security-policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


async def draw_each_kind(maps: Maps) -> dict[str, dict[str, Any]]:
    await maps.add_clients(12)
    ids = [f"c{i:05d}" for i in range(12)]
    return {kind: await maps.drawn(kind, {"selection": {"client_ids": ids}}) for kind in KINDS}


async def test_every_map_page_loads_its_libraries_from_the_platform_with_a_strict_policy(
    maps: Maps,
) -> None:
    for kind, summary in (await draw_each_kind(maps)).items():
        answer = await maps.http.get(summary["html_path"])
        assert answer.status_code == 200
        page = answer.text

        fetched = resources(page)
        assert any(url.endswith("leaflet/leaflet.js") for url in fetched), fetched
        for url in fetched:
            assert url.startswith("../assets/"), (kind, url)
            asset = await maps.http.get(urljoin(f"http://studio.test{summary['html_path']}", url))
            assert asset.status_code == 200, (kind, url)
            assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
            assert asset.headers["x-content-type-options"] == "nosniff"
        assert not [cdn for cdn in CDNS if cdn in page], kind
        # The tiles (and the credit's link) are the one outside host the page names.
        assert hosts(page) <= {"tile.openstreetmap.org", "www.openstreetmap.org"}, hosts(page)

        csp = policy(answer)
        inline = [sha256_source(s) for s in _inline_scripts(page)]
        assert inline, kind
        assert csp["default-src"] == ["'none'"]
        assert csp["script-src"] == ["'self'", *inline]
        assert "'unsafe-inline'" not in csp["style-src"]
        assert csp["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
        assert csp["frame-ancestors"] == ["'self'"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        if kind == "address-pins":
            assert any("markercluster" in url for url in fetched)
        if kind == "heat":
            assert any("leaflet-heat" in url for url in fetched)


def _inline_scripts(page: str) -> list[str]:
    found: list[str] = []
    for block in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", page, re.S):
        if "src=" not in block.group("attrs") and block.group("body") not in found:
            found.append(block.group("body"))
    assert "\n".join(found).strip() == inline_script(page).strip()
    return found


async def test_the_marker_icons_leaflet_finds_beside_its_css_are_served_too(maps: Maps) -> None:
    for image in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png", "layers.png"):
        answer = await maps.http.get(f"/maps/assets/leaflet/images/{image}")
        assert answer.status_code == 200, image
        assert answer.headers["content-type"] == "image/png"
        assert answer.content.startswith(b"\x89PNG")
    unknown = await maps.http.get("/maps/assets/../config.py")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"


@pytest.fixture
async def offline_maps(unique: str, mongo: AsyncMongoClient[Document]) -> AsyncIterator[Maps]:
    database = f"t_{unique}_offline"
    app = build_app("maps", database=database, tile_url="")
    try:
        async with running(app) as client:
            yield Maps(client, mongo[database])
    finally:
        await mongo.drop_database(database)


async def test_without_a_tile_server_a_map_page_names_no_outside_host_at_all(
    offline_maps: Maps,
) -> None:
    for kind, summary in (await draw_each_kind(offline_maps)).items():
        answer = await offline_maps.http.get(summary["html_path"])
        assert hosts(answer.text) == set(), (kind, hosts(answer.text))
        assert policy(answer)["img-src"] == ["'self'", "data:"]
        assert "tileLayer" not in inline_script(answer.text)
