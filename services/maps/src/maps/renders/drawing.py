"""Drawing a map: folium HTML and RFC 7946 GeoJSON from located points (pure, blocking).

folium builds the page in Python and renders a template; for 10,000 points that is a CPU-bound
stretch of work, so callers run these functions in a worker thread.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import MacroElement
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template

from maps.assets import catalogue as assets

ATTRIBUTION_NOTE = "Locations: US ZIP centroids, GeoNames (CC BY 4.0)"
_US_CENTRE = (39.83, -98.58)


@dataclass(frozen=True)
class HeatPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PostalCodePin:
    latitude: float
    longitude: float
    country: str
    postal_code: str
    clients: int


@dataclass(frozen=True)
class AddressPin:
    latitude: float
    longitude: float
    client_id: str
    name: str
    precision: str


def _text(value: str) -> str:
    """Safe inside folium's tooltips, which are HTML inside a JavaScript template literal."""
    return html.escape(value).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@dataclass(frozen=True)
class Basemap:
    """The tile layer under the points: an XYZ URL template and its credit; no URL, no tiles
    (the points on a blank background: nothing is fetched from outside the platform)."""

    tile_url: str
    attribution: str

    @property
    def origin(self) -> str | None:
        """The tiles' origin as a CSP source (`https://*.tile.example` for `{s}` subdomains)."""
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url.replace("{s}", "*"))
        return f"{parts.scheme}://{parts.netloc}"


def _base_map(points: Sequence[tuple[float, float]], basemap: Basemap) -> folium.Map:
    figure = folium.Map(
        location=_US_CENTRE,
        zoom_start=4,
        tiles=basemap.tile_url or None,
        attr=basemap.attribution if basemap.tile_url else None,
        control_scale=True,
    )
    # Leaflet from the platform itself, and none of folium's other defaults (jQuery,
    # Bootstrap, Font Awesome, awesome-markers), which these maps do not use.
    figure.default_js = list(assets.MAP_JS)
    figure.default_css = list(assets.MAP_CSS)
    if points:
        latitudes = [p[0] for p in points]
        longitudes = [p[1] for p in points]
        figure.fit_bounds(
            [[min(latitudes), min(longitudes)], [max(latitudes), max(longitudes)]], max_zoom=13
        )
    return figure


def _page(figure: folium.Map) -> str:
    _Credit(ATTRIBUTION_NOTE).add_to(figure)
    return str(figure.get_root().render())


class _Credit(MacroElement):
    """The data's credit in the map's own attribution line."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.credit }});"
        "{% endmacro %}"
    )

    def __init__(self, credit: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.credit = json.dumps(credit)


def heat_map_html(points: Sequence[HeatPoint], basemap: Basemap) -> str:
    coordinates = [(p.latitude, p.longitude) for p in points]
    figure = _base_map(coordinates, basemap)
    heat = HeatMap(  # type: ignore[no-untyped-call]
        [[lat, lon] for lat, lon in coordinates], radius=18, blur=14
    )
    heat.default_js = list(assets.HEAT_JS)
    heat.add_to(figure)
    return _page(figure)


def postal_code_pin_map_html(pins: Sequence[PostalCodePin], basemap: Basemap) -> str:
    figure = _base_map([(p.latitude, p.longitude) for p in pins], basemap)
    largest = max((p.clients for p in pins), default=1)
    for pin in pins:
        label = f"{pin.postal_code}: {pin.clients} client{'s' if pin.clients != 1 else ''}"
        folium.CircleMarker(
            [pin.latitude, pin.longitude],
            radius=6 + 24 * math.sqrt(pin.clients / largest),
            color="#3b5bdb",
            fill=True,
            fill_opacity=0.55,
            tooltip=_text(label),
        ).add_to(figure)
    return _page(figure)


def address_pin_map_html(pins: Sequence[AddressPin], basemap: Basemap) -> str:
    figure = _base_map([(p.latitude, p.longitude) for p in pins], basemap)
    cluster = MarkerCluster()  # type: ignore[no-untyped-call]
    cluster.default_js = list(assets.CLUSTER_JS)
    cluster.default_css = list(assets.CLUSTER_CSS)
    cluster.add_to(figure)
    for pin in pins:
        folium.Marker([pin.latitude, pin.longitude], tooltip=_text(pin.name)).add_to(cluster)
    return _page(figure)


def _feature(latitude: float, longitude: float, properties: dict[str, Any]) -> dict[str, Any]:
    # RFC 7946: positions are [longitude, latitude].
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(longitude, 6), round(latitude, 6)]},
        "properties": properties,
    }


def heat_map_geojson(points: Sequence[HeatPoint]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [_feature(p.latitude, p.longitude, {"weight": 1}) for p in points],
    }


def postal_code_pin_geojson(pins: Sequence[PostalCodePin]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            _feature(
                p.latitude,
                p.longitude,
                {"country": p.country, "postal_code": p.postal_code, "clients": p.clients},
            )
            for p in pins
        ],
    }


def address_pin_geojson(pins: Sequence[AddressPin]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            _feature(
                p.latitude,
                p.longitude,
                {"client_id": p.client_id, "name": p.name, "precision": p.precision},
            )
            for p in pins
        ],
    }
