"""Map requests and the summary of a drawn map."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maps.clients.schemas import ClientSelection


class MapKind(StrEnum):
    heat = "heat"
    postal_code_pins = "postal_code_pins"
    address_pins = "address_pins"


class MapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selection: ClientSelection
    title: str | None = Field(None, max_length=200)
    min_clients_per_postal_code: int | None = Field(
        None,
        ge=2,
        le=1000,
        description=(
            "Privacy: leave out every postal code with fewer clients than this on the map "
            "(and clients without a postal code)."
        ),
    )


OmissionReason = Literal[
    "unknown_client", "blank_address", "no_postal_code", "not_found", "geocoder_unavailable"
]


class OmittedClient(BaseModel):
    client_id: str
    reason: OmissionReason
    message: str


class HiddenForPrivacy(BaseModel):
    min_clients_per_postal_code: int
    clients: int
    postal_codes: int


class MapUsage(BaseModel):
    """What this map added to the usage ledger."""

    location_lookups: int
    map_lookups: int


class MapRender(BaseModel):
    id: str
    kind: MapKind
    title: str | None
    created_at: datetime
    clients_selected: int
    clients_shown: int
    points: int = Field(description="Heat points, postal-code pins or address pins drawn.")
    omitted: list[OmittedClient]
    hidden: HiddenForPrivacy | None
    usage: MapUsage
    html_path: str = Field(description="The folium page, relative to this service.")
    geojson_path: str = Field(description="The RFC 7946 FeatureCollection.")
