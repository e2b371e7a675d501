"""The maps consumer process: booking's client and session events into the client projection.

    python -m maps.consumers

The consumer group's name carries the projection's epoch; an empty projection starts a new
epoch, whose new group reads `booking.events` from the beginning and so rebuilds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import Subscription
from kit.mongo import connect_mongo
from maps.clients.handlers import ProjectionHandlers
from maps.clients.repository import ClientProjection
from maps.config import MapsSettings
from maps.main import service_spec


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    settings = platform.settings
    assert isinstance(settings, MapsSettings)
    handlers = ProjectionHandlers(
        ClientProjection(platform.db), default_country=settings.default_country
    )
    return handlers.subscriptions()


async def group_id(settings: MapsSettings) -> str:
    """The consumer group for this start: the stem plus the projection's current epoch."""
    mongo = connect_mongo(settings.infra.mongo_url, app_name=f"{settings.service}-consumers")
    try:
        epoch = await ClientProjection(mongo[settings.database]).consumer_epoch()
    finally:
        await mongo.close()
    return f"{settings.consumer_group}-{epoch}"


def main() -> None:
    settings = MapsSettings()
    run_consumer_process(
        settings,
        service_spec(api=False),
        group_id=asyncio.run(group_id(settings)),
        topics=[settings.booking_topic],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
