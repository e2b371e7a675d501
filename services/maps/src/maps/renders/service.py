"""Drawing a map for a selection of clients.

select (within the kind's limit) -> geocode through the chain (cache, then providers) ->
leave out who cannot be placed, with the reason -> hide small postal codes if asked ->
draw the page and the GeoJSON in a worker thread -> store -> one map look-up in the ledger.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kit.events.contracts.booking import PostalAddress
from maps.clients.schemas import ProjectedClient
from maps.clients.service import ClientSelector
from maps.config import MapsSettings
from maps.geocoding.address import NormalisedAddress, normalise
from maps.geocoding.providers import Location
from maps.geocoding.service import GeocodingService
from maps.renders import drawing
from maps.renders.repository import MapRenderRepository
from maps.renders.schemas import (
    HiddenForPrivacy,
    MapKind,
    MapRender,
    MapRequest,
    MapUsage,
    OmissionReason,
    OmittedClient,
)
from maps.usage.repository import UsageLedger

_WHAT = {
    MapKind.heat: "heat map",
    MapKind.postal_code_pins: "postal-code pin map",
    MapKind.address_pins: "address pin map",
}
_MESSAGES: dict[OmissionReason, str] = {
    "unknown_client": "No such client in the maps projection (never created, or deleted).",
    "blank_address": "The client has no address.",
    "no_postal_code": "The client's address has no postal code.",
    "not_found": "No geocoder could place this address.",
    "geocoder_unavailable": "The geocoder did not answer; try again later.",
}


@dataclass(frozen=True)
class _Placed:
    client: ProjectedClient
    address: NormalisedAddress
    location: Location


@dataclass(frozen=True)
class _Drawing:
    html: str
    geojson: str
    points: int


class MapService:
    def __init__(
        self,
        settings: MapsSettings,
        selector: ClientSelector,
        geocoding: GeocodingService,
        renders: MapRenderRepository,
        ledger: UsageLedger,
    ) -> None:
        self._settings = settings
        self._selector = selector
        self._geocoding = geocoding
        self._renders = renders
        self._ledger = ledger
        self.basemap = drawing.Basemap(settings.tile_url, settings.tile_attribution)

    def limit(self, kind: MapKind) -> int:
        return {
            MapKind.heat: self._settings.heat_map_limit,
            MapKind.postal_code_pins: self._settings.postal_code_pin_limit,
            MapKind.address_pins: self._settings.address_pin_limit,
        }[kind]

    async def draw(self, kind: MapKind, request: MapRequest) -> MapRender:
        selected = await self._selector.select(
            request.selection, limit=self.limit(kind), what=_WHAT[kind]
        )
        omitted = [_omitted(client_id, "unknown_client") for client_id in selected.unknown_ids]
        wanted: list[tuple[ProjectedClient, NormalisedAddress]] = []
        for client in selected.clients:
            address = normalise(_address_of(client), default_country=self._settings.default_country)
            if kind is MapKind.postal_code_pins:
                if not address.postal_code:
                    omitted.append(_omitted(client.client_id, "no_postal_code"))
                    continue
                address = address.postal_code_only()
            elif address.is_blank:
                omitted.append(_omitted(client.client_id, "blank_address"))
                continue
            wanted.append((client, address))

        outcome = await self._geocoding.resolve(address for _, address in wanted)
        placed: list[_Placed] = []
        for client, address in wanted:
            resolution = outcome.resolutions[address.key]
            if resolution.location is None:
                omitted.append(_omitted(client.client_id, resolution.failure or "not_found"))
            else:
                placed.append(_Placed(client, address, resolution.location))

        hidden = None
        if request.min_clients_per_postal_code is not None:
            placed, hidden = _hide_small_postal_codes(placed, request.min_clients_per_postal_code)

        drawn = await asyncio.to_thread(_DRAWERS[kind], placed, self.basemap)
        render_id = uuid.uuid4().hex
        summary = MapRender(
            id=render_id,
            kind=kind,
            title=request.title,
            created_at=datetime.now(UTC),
            clients_selected=selected.count,
            clients_shown=len(placed),
            points=drawn.points,
            omitted=sorted(omitted, key=lambda o: o.client_id),
            hidden=hidden,
            usage=MapUsage(location_lookups=outcome.location_lookups, map_lookups=1),
            html_path=f"/maps/{render_id}/html",
            geojson_path=f"/maps/{render_id}/geojson",
        )
        await self._renders.insert(summary, html=drawn.html, geojson=drawn.geojson)
        await self._ledger.record(map_lookups=1, at=summary.created_at)
        return summary


def _address_of(client: ProjectedClient) -> PostalAddress:
    return PostalAddress(
        street=client.street,
        city=client.city,
        region=client.region,
        postal_code=client.postal_code,
        country=client.country,
    )


def _omitted(client_id: str, reason: OmissionReason) -> OmittedClient:
    return OmittedClient(client_id=client_id, reason=reason, message=_MESSAGES[reason])


def _hide_small_postal_codes(
    placed: list[_Placed], k: int
) -> tuple[list[_Placed], HiddenForPrivacy]:
    """Leave out the postal codes with fewer than k of the placed clients.

    A client without a postal code cannot be shown to be among k others, so it is left out too.
    """
    counts = Counter(p.address.postal_code_key for p in placed if p.address.postal_code)
    shown = [p for p in placed if p.address.postal_code and counts[p.address.postal_code_key] >= k]
    small = [code for code, count in counts.items() if count < k]
    return shown, HiddenForPrivacy(
        min_clients_per_postal_code=k, clients=len(placed) - len(shown), postal_codes=len(small)
    )


def _draw_heat(placed: Sequence[_Placed], basemap: drawing.Basemap) -> _Drawing:
    points = [drawing.HeatPoint(p.location.latitude, p.location.longitude) for p in placed]
    return _Drawing(
        drawing.heat_map_html(points, basemap), _json(drawing.heat_map_geojson(points)), len(points)
    )


def _draw_postal_code_pins(placed: Sequence[_Placed], basemap: drawing.Basemap) -> _Drawing:
    groups: dict[str, list[_Placed]] = {}
    for p in placed:
        groups.setdefault(p.address.postal_code_key, []).append(p)
    pins = [
        drawing.PostalCodePin(
            members[0].location.latitude,
            members[0].location.longitude,
            members[0].address.country,
            members[0].address.postal_code,
            len(members),
        )
        for _, members in sorted(groups.items())
    ]
    return _Drawing(
        drawing.postal_code_pin_map_html(pins, basemap),
        _json(drawing.postal_code_pin_geojson(pins)),
        len(pins),
    )


def _draw_address_pins(placed: Sequence[_Placed], basemap: drawing.Basemap) -> _Drawing:
    pins = [
        drawing.AddressPin(
            p.location.latitude,
            p.location.longitude,
            p.client.client_id,
            p.client.display_name,
            p.location.precision,
        )
        for p in placed
    ]
    return _Drawing(
        drawing.address_pin_map_html(pins, basemap),
        _json(drawing.address_pin_geojson(pins)),
        len(pins),
    )


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


_DRAWERS: dict[MapKind, Callable[[Sequence[_Placed], drawing.Basemap], _Drawing]] = {
    MapKind.heat: _draw_heat,
    MapKind.postal_code_pins: _draw_postal_code_pins,
    MapKind.address_pins: _draw_address_pins,
}
