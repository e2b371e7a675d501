"""Geocoding providers behind one interface; the chain in `service.py` asks them in order.

- `ZipCentroids`: embedded and offline, US ZIP code centroids from the `zipcodes` package
  (GeoNames data, CC BY 4.0). It locates the postal code, not the street.
- `NominatimGeocoder`: OpenStreetMap's Nominatim through geopy, public or self-hosted. The
  public service allows at most 1 request/s and wants an identifying user agent; both are
  enforced here for the whole process.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from maps.geocoding.address import NormalisedAddress

Precision = Literal["address", "postal_code"]


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    precision: Precision
    provider: str


class GeocoderUnavailable(Exception):
    """A provider could not answer (network, timeout, refusal); nothing is learnt or cached."""


class Geocoder(Protocol):
    name: str

    async def locate(self, address: NormalisedAddress) -> Location | None:
        """The address's location, None when the provider knows no such place."""
        ...


@functools.cache
def _zip_centroids() -> dict[str, tuple[float, float]]:
    import zipcodes

    return {
        entry["zip_code"]: (float(entry["lat"]), float(entry["long"]))
        for entry in zipcodes.list_all()  # type: ignore[no-untyped-call]
        if entry.get("lat") and entry.get("long")
    }


class ZipCentroids:
    name = "zipcodes"

    def __init__(self) -> None:
        self._index: dict[str, tuple[float, float]] | None = None

    async def load(self) -> None:
        """Read the ZIP table once (about 0.2 s), off the event loop."""
        if self._index is None:
            self._index = await asyncio.to_thread(_zip_centroids)

    async def locate(self, address: NormalisedAddress) -> Location | None:
        if address.country != "US" or not address.postal_code:
            return None
        await self.load()
        assert self._index is not None
        point = self._index.get(address.postal_code)
        if point is None:
            return None
        return Location(point[0], point[1], "postal_code", self.name)


class NominatimGeocoder:
    name = "nominatim"

    def __init__(
        self, *, url: str, user_agent: str, min_interval_seconds: float, timeout_seconds: float
    ) -> None:
        from geopy.geocoders import Nominatim

        parts = urlsplit(url)
        self._geocoder = Nominatim(
            user_agent=user_agent,
            domain=parts.netloc + parts.path.rstrip("/"),
            scheme=parts.scheme or "https",
            timeout=timeout_seconds,
        )
        self._min_interval = min_interval_seconds
        self._lock = asyncio.Lock()
        self._last_request = -math.inf

    async def locate(self, address: NormalisedAddress) -> Location | None:
        from geopy.exc import GeopyError

        query = {
            "street": address.street,
            "city": address.city,
            "state": address.region,
            "postalcode": address.postal_code,
            "country": address.country,
        }
        query = {name: value for name, value in query.items() if value}
        # One request at a time per process, spaced by the policy's interval.
        async with self._lock:
            wait = self._last_request + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                found = await asyncio.to_thread(self._geocoder.geocode, query, exactly_one=True)
            except GeopyError as exc:
                raise GeocoderUnavailable(f"nominatim: {type(exc).__name__}: {exc}") from exc
            finally:
                self._last_request = time.monotonic()
        if found is None:
            return None
        precision: Precision = "address" if address.street else "postal_code"
        return Location(float(found.latitude), float(found.longitude), precision, self.name)
