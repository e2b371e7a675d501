"""A render run whose profile says "deliver" becomes exactly one delivery with a link."""

from __future__ import annotations

import asyncio
from typing import Any

from delivery.consumers import subscriptions
from kit.events.consumer import EventConsumer
from kit.events.contracts.render import RenderOutput, RunCompleted
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.testing import eventually


def run_completed(run_id: str, keys: list[str], *, deliver: bool) -> Envelope:
    payload = RunCompleted(
        run_id=run_id,
        job_id="job-1",
        entity_kind="session",
        entity_id="s9",
        session_id="s9",
        finish_status="Delivery Pending",
        outputs=[
            RenderOutput(
                image_id=f"img{i}",
                profile_id="web",
                profile_version=1,
                key=key,
                bytes=1,
                width=10,
                height=10,
            )
            for i, key in enumerate(keys)
        ],
        deliver=deliver,
        link_expiry_days=14,
    )
    return Envelope.wrap(payload, subject=run_id, source=source_of("render"))


async def test_a_delivering_run_is_packaged_once_even_when_its_event_comes_twice(
    delivery_service: Any, unique: str
) -> None:
    async with delivery_service() as service:
        images = await service.upload("s9", 3)
        topic = f"t.{unique}.render.events"
        await ensure_topics(service.infra.kafka_bootstrap, [topic], partitions=1)
        run_id = f"run-{unique}"
        event = run_completed(run_id, list(images), deliver=True)
        ignored = run_completed(f"other-{unique}", list(images), deliver=False)
        republished = Envelope.wrap(  # the producer's relay sent it again under a new id
            event.payload(RunCompleted), subject=run_id, source=source_of("render")
        )
        publisher = EventPublisher(service.infra.kafka_bootstrap, client_id="test")
        consumer = EventConsumer(
            bootstrap=service.infra.kafka_bootstrap,
            group_id=f"delivery-{unique}",
            topics=[topic],
            subscriptions=subscriptions(service.ctx.platform),
            db=service.ctx.db,
            publisher=publisher,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            await publisher.publish_many(topic, [event, event, ignored, republished])
            delivery = await service.settled(f"run-{run_id}")

            async def all_handled() -> bool:
                return await service.ctx.db["consumed_events"].count_documents({}) == 3

            await eventually(all_handled, timeout=30, what="the consumer to handle every event")
        finally:
            stop.set()
            await task
            await publisher.stop()
        assert delivery["status"] == "ready"
        assert delivery["run_id"] == run_id
        assert len(delivery["files"]) == 3
        listed = (await service.http.get("/deliveries", params={"session_id": "s9"})).json()
        assert [d["id"] for d in listed] == [f"run-{run_id}"]
        [ready] = await service.events(f"run-{run_id}", "delivery.delivery.ready.v1")
        assert ready["data"]["run_id"] == run_id
        assert ready["data"]["link_url"].startswith("https://photos.example.com/d/")
        links = delivery["links"]
        assert len(links) == 1
        assert links[0]["expires_at"] > delivery["ready_at"]
