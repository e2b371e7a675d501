"""Clients: records with duplicate checks, soft deletion, merging, CSV/.xlsx import and export."""

from booking.clients.importing import import_runs
from booking.clients.repository import CLIENTS, INDEXES
from booking.clients.router import router
from booking.features import Feature
from kit.app import Platform


async def _stop_imports(_: Platform) -> None:
    await import_runs.stop()


feature = Feature(
    routers=[router], indexes=INDEXES, outbox_collections=[CLIENTS], on_stop=[_stop_imports]
)
