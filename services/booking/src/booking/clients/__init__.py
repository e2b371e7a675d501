"""Clients: records with duplicate checks, soft deletion, merging, CSV/.xlsx import and export."""

from booking.clients.backfill import search_keys_backfill
from booking.clients.importing import import_runs
from booking.clients.repository import CLIENTS, INDEXES
from booking.clients.router import router
from booking.features import Feature
from kit.app import Platform


async def _start_backfill(platform: Platform) -> None:
    await search_keys_backfill.start(platform)


async def _stop_background_work(_: Platform) -> None:
    await search_keys_backfill.stop()
    await import_runs.stop()


feature = Feature(
    routers=[router],
    indexes=INDEXES,
    outbox_collections=[CLIENTS],
    on_start=[_start_backfill],
    on_stop=[_stop_background_work],
)
