"""The geocoding chain: the cache first, then each configured provider in order.

Only a cache miss that a provider answered (found or not) is a location look-up for the
usage ledger; an address no provider found is cached as such for a while, so it is not
paid for on every map.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from maps.geocoding.address import NormalisedAddress
from maps.geocoding.providers import Geocoder, GeocoderUnavailable, Location
from maps.geocoding.repository import CacheEntry, GeocodeCache
from maps.usage.repository import UsageLedger

FailureReason = Literal["not_found", "geocoder_unavailable"]


@dataclass(frozen=True)
class Resolution:
    location: Location | None
    failure: FailureReason | None = None


@dataclass(frozen=True)
class GeocodingOutcome:
    resolutions: dict[str, Resolution]
    location_lookups: int


class GeocodingService:
    def __init__(
        self,
        cache: GeocodeCache,
        providers: Sequence[Geocoder],
        ledger: UsageLedger,
        *,
        not_found_retry: timedelta,
    ) -> None:
        self._cache = cache
        self._providers = list(providers)
        self._ledger = ledger
        self._not_found_retry = not_found_retry

    async def resolve(self, addresses: Iterable[NormalisedAddress]) -> GeocodingOutcome:
        """Locate each distinct non-blank address once; results keyed by `address.key`."""
        wanted = {a.key: a for a in addresses if not a.is_blank}
        now = datetime.now(UTC)
        resolutions: dict[str, Resolution] = {}
        cached = await self._cache.get_many(list(wanted))
        for key, entry in cached.items():
            if entry.location is not None:
                resolutions[key] = Resolution(entry.location)
            elif entry.retry_after is not None and entry.retry_after > now:
                resolutions[key] = Resolution(None, "not_found")
        learnt: list[CacheEntry] = []
        for key, address in wanted.items():
            if key in resolutions:
                continue
            try:
                location = await self._ask_providers(address)
            except GeocoderUnavailable:
                resolutions[key] = Resolution(None, "geocoder_unavailable")
                continue
            resolutions[key] = Resolution(location, None if location else "not_found")
            retry_after = None if location else now + self._not_found_retry
            learnt.append(CacheEntry(key, location, now, retry_after))
        if learnt:
            # Counted before it is cached: a look-up made is a look-up paid for.
            await self._ledger.record(location_lookups=len(learnt), at=now)
            await self._cache.put_many(learnt, replacing=set(cached))
        return GeocodingOutcome(resolutions, len(learnt))

    async def _ask_providers(self, address: NormalisedAddress) -> Location | None:
        unavailable: GeocoderUnavailable | None = None
        for provider in self._providers:
            try:
                location = await provider.locate(address)
            except GeocoderUnavailable as exc:
                unavailable = exc
                continue
            if location is not None:
                return location
        if unavailable is not None:
            raise unavailable
        return None
