"""Events through the kit (publisher -> Kafka -> consumer runner with dedupe) next to a bare
aiokafka producer/consumer pair, in the same run; and one event's end-to-end latency.

    make bench-events_throughput
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable

from _harness import percentile, report, summary
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from kit.events.consumer import EventConsumer, HandlerContext, Subscription
from kit.events.contracts.booking import ClientCreated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import connect_mongo
from kit.settings import InfraSettings

EVENTS = 3000
REPEATS = 3
LATENCY_SAMPLES = 200

infra = InfraSettings()


def events(count: int) -> list[Envelope]:
    return [
        Envelope.wrap(
            ClientCreated(client_id=f"c{i}", email=f"c{i}@example.com"),
            subject=f"c{i}",
            source=source_of("booking"),
        )
        for i in range(count)
    ]


async def wait_until(predicate: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the consumer did not catch up")
        await asyncio.sleep(0.001)


class Bare:
    """The anchor: aiokafka as it comes, idempotent producer, consumer that only counts."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.seen = 0

    async def __aenter__(self) -> Bare:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )
        self.consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=infra.kafka_bootstrap,
            group_id=f"bare-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
        )
        await self.producer.start()
        await self.consumer.start()
        self.task = asyncio.create_task(self._consume())
        return self

    async def _consume(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            for messages in batches.values():
                self.seen += len(messages)

    async def send(self, batch: list[Envelope]) -> None:
        futures = [
            await self.producer.send(self.topic, e.to_bytes(), key=e.subject.encode())
            for e in batch
        ]
        for future in futures:
            await future

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()
        await self.producer.stop()


class Kit:
    """Ours: EventPublisher, then EventConsumer with its ledger in MongoDB, a no-op handler."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.seen = 0

    async def __aenter__(self) -> Kit:
        self.mongo = connect_mongo(infra.mongo_url, app_name="bench")
        self.database = f"bench_{uuid.uuid4().hex[:6]}"
        self.publisher = EventPublisher(infra.kafka_bootstrap, client_id="bench")

        async def handle(event: ClientCreated, ctx: HandlerContext) -> None:
            self.seen += 1

        self.consumer = EventConsumer(
            bootstrap=infra.kafka_bootstrap,
            group_id=f"kit-{uuid.uuid4().hex[:6]}",
            topics=[self.topic],
            subscriptions=[Subscription(ClientCreated, handle)],
            db=self.mongo[self.database],
            publisher=self.publisher,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.consumer.run(self.stop))
        return self

    async def send(self, batch: list[Envelope]) -> None:
        await self.publisher.publish_many(self.topic, batch)

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await self.task
        await self.publisher.stop()
        await self.mongo.drop_database(self.database)
        await self.mongo.close()


Pipeline = Callable[[str], Bare | Kit]


async def throughput(pipeline: Pipeline) -> float:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    async with pipeline(topic) as p:
        await p.send(events(1))  # join the group and warm the connections first
        await wait_until(lambda: p.seen == 1)
        batch = events(EVENTS)
        started = time.perf_counter()
        await p.send(batch)
        await wait_until(lambda: p.seen == EVENTS + 1)
        return EVENTS / (time.perf_counter() - started)


async def latency(pipeline: Pipeline) -> list[float]:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    samples = []
    async with pipeline(topic) as p:
        await p.send(events(1))
        await wait_until(lambda: p.seen == 1)
        for i in range(LATENCY_SAMPLES):
            started = time.perf_counter()
            await p.send(events(1))
            await wait_until(lambda i=i: p.seen == i + 2)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


async def main() -> None:
    rates: dict[str, list[float]] = {"bare": [], "kit": []}
    for _ in range(REPEATS):  # interleaved, so drift hits both alike
        rates["bare"].append(await throughput(Bare))
        rates["kit"].append(await throughput(Kit))
    lat = {"bare": await latency(Bare), "kit": await latency(Kit)}

    bare, kit = summary(rates["bare"]), summary(rates["kit"])
    figures = {
        "events": EVENTS,
        "repeats": REPEATS,
        "bare_events_per_s": {k: round(v, 1) for k, v in bare.items()},
        "kit_events_per_s": {k: round(v, 1) for k, v in kit.items()},
        "kit_over_bare_throughput": round(kit["median"] / bare["median"], 3),
        "latency_ms": {
            name: {"p50": round(percentile(s, 50), 2), "p99": round(percentile(s, 99), 2)}
            for name, s in lat.items()
        },
        "kit_over_bare_latency_p50": round(
            percentile(lat["kit"], 50) / percentile(lat["bare"], 50), 3
        ),
    }
    rows = [
        ("measure", "bare aiokafka (anchor)", "kit publisher + consumer runner"),
        ("events/s (median)", f"{bare['median']:.0f}", f"{kit['median']:.0f}"),
        ("spread", f"{bare['spread_pct']:.0f}%", f"{kit['spread_pct']:.0f}%"),
        (
            "latency p50 (ms)",
            f"{percentile(lat['bare'], 50):.2f}",
            f"{percentile(lat['kit'], 50):.2f}",
        ),
        (
            "latency p99 (ms)",
            f"{percentile(lat['bare'], 99):.2f}",
            f"{percentile(lat['kit'], 99):.2f}",
        ),
        (
            "ratio kit/bare",
            "1.00",
            f"throughput {figures['kit_over_bare_throughput']}, "
            f"p50 latency {figures['kit_over_bare_latency_p50']}",
        ),
    ]
    report("events_throughput", rows, figures)


if __name__ == "__main__":
    asyncio.run(main())
