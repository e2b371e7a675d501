"""A consumer process for the exactly-once tests: projects client events into MongoDB.

    python client_projection.py BOOTSTRAP MONGO_URL DATABASE TOPIC GROUP

Each ClientCreated increments `created` on the client's projection document and each
ClientUpdated increments `updates`; an event applied twice would show as a 2.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from kit.events.consumer import EventConsumer, HandlerContext, Subscription
from kit.events.contracts.booking import ClientCreated, ClientUpdated
from kit.events.kafka import EventPublisher
from kit.mongo import connect_mongo


async def main(bootstrap: str, mongo_url: str, database: str, topic: str, group: str) -> None:
    mongo = connect_mongo(mongo_url, app_name="client-projection")
    projection = mongo[database]["client_projection"]
    publisher = EventPublisher(bootstrap, client_id="client-projection")

    async def created(event: ClientCreated, ctx: HandlerContext) -> None:
        await asyncio.sleep(0.002)  # a handler that takes a moment, so kills land mid-batch
        await ctx.apply_once(
            projection,
            {"_id": event.client_id},
            {"$inc": {"created": 1}, "$set": {"email": event.email}},
            upsert=True,
        )

    async def updated(event: ClientUpdated, ctx: HandlerContext) -> None:
        await ctx.apply_once(
            projection, {"_id": event.client_id}, {"$inc": {"updates": 1}}, upsert=True
        )

    consumer = EventConsumer(
        bootstrap=bootstrap,
        group_id=group,
        topics=[topic],
        subscriptions=[Subscription(ClientCreated, created), Subscription(ClientUpdated, updated)],
        db=mongo[database],
        publisher=publisher,
        session_timeout_ms=6000,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await consumer.run(stop)
    finally:
        await publisher.stop()
        await mongo.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
