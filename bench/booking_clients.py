"""Client import throughput: a 10,000-row CSV through the booking service's import code, next
to a plain `insert_many` of the same documents, measured in the same run.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/booking_clients.py

Three figures for the import: the dry run (parse, validate, duplicate checks, no writes), the
real import with nothing else running, and the real import while the service's outbox relay
publishes the new clients' events to Kafka at the same time (as it does in the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import tempfile
import time
import uuid
from typing import IO

from _harness import report, summary

from booking.clients.importing import Table, client_importer
from booking.clients.repository import CLIENTS, INDEXES, ClientRepository
from kit.events.kafka import EventPublisher, ensure_topics
from kit.events.outbox import OutboxRelay, outbox_indexes
from kit.mongo import Document, connect_mongo, ensure_indexes
from kit.settings import InfraSettings

ROWS = 10_000
REPEATS = 3
RELAY_WAIT_SECONDS = 180
MAPPING = {
    "first_name": "First Name",
    "last_name": "Surname",
    "email": "E-Mail",
    "phone": "Phone",
    "phone_sms": "Texts OK",
    "street": "Street",
    "city": "Town",
    "postal_code": "ZIP",
    "country": "Country",
    "tags": "Groups",
    "marketing_consent": "Newsletter",
}

infra = InfraSettings()


def csv_bytes() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(MAPPING.values()))
    for i in range(ROWS):
        writer.writerow(
            [f"First{i}", f"Last{i}", f"client{i:05d}@example.com", f"+1 212 555 {i:05d}",
             "yes", f"{i} Main Street", "New York", f"{10000 + i % 500}", "US",
             "bulk; 2026", "no"]
        )  # fmt: skip
    return buffer.getvalue().encode()


def spooled(content: bytes) -> IO[bytes]:
    """The upload as Starlette hands it over: a spooled temporary file (on disk above 1 MiB)."""
    file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    file.write(content)
    file.seek(0)
    return file  # type: ignore[return-value]


class Database:
    def __init__(self) -> None:
        self.mongo = connect_mongo(infra.mongo_url, app_name="bench")
        self.name = f"bench_{uuid.uuid4().hex[:8]}"
        self.db = self.mongo[self.name]

    async def __aenter__(self) -> Database:
        await ensure_indexes(self.db, [*INDEXES, *outbox_indexes([CLIENTS])])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.mongo.drop_database(self.name)
        await self.mongo.close()


async def import_seconds(content: bytes, *, dry_run: bool) -> tuple[float, list[Document]]:
    async with Database() as database:
        repository = ClientRepository(database.db, lambda: None)
        file = spooled(content)
        started = time.perf_counter()
        result = await client_importer.run(repository, Table(file, "csv"), MAPPING, dry_run=dry_run)
        seconds = time.perf_counter() - started
        file.close()
        if result.rejected or result.created != ROWS:
            raise RuntimeError(f"unexpected import result: {result.created} created")
        documents = [] if dry_run else await database.db[CLIENTS].find().to_list()
        return seconds, documents


async def import_with_relay_seconds(content: bytes) -> tuple[float, float | None, int]:
    """The import while the relay publishes; how long until every event was out (None if not
    within `RELAY_WAIT_SECONDS`), and how many were still waiting then."""
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="bench")
    await publisher.start()
    async with Database() as database:
        relay = OutboxRelay(database.db, publisher, [CLIENTS], topic_for=lambda _: topic)
        repository = ClientRepository(database.db, relay.notify)
        task = asyncio.create_task(relay.run())
        try:
            file = spooled(content)
            started = time.perf_counter()
            await client_importer.run(repository, Table(file, "csv"), MAPPING, dry_run=False)
            imported = time.perf_counter() - started
            file.close()
            pending = {"_outbox.0": {"$exists": True}}
            relayed: float | None = None
            waiting = ROWS
            while time.perf_counter() - started < RELAY_WAIT_SECONDS:
                waiting = await database.db[CLIENTS].count_documents(pending)
                if not waiting:
                    relayed = time.perf_counter() - started
                    break
                await asyncio.sleep(1)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await publisher.stop()
    return imported, relayed, waiting


async def insert_many_seconds(documents: list[Document]) -> float:
    async with Database() as database:
        started = time.perf_counter()
        await database.db[CLIENTS].insert_many(documents, ordered=False)
        return time.perf_counter() - started


async def main() -> None:
    content = csv_bytes()
    dry: list[float] = []
    real: list[float] = []
    plain: list[float] = []
    for _ in range(REPEATS):
        dry.append((await import_seconds(content, dry_run=True))[0])
        seconds, documents = await import_seconds(content, dry_run=False)
        real.append(seconds)
        plain.append(await insert_many_seconds(documents))
    with_relay, relayed, unpublished = await import_with_relay_seconds(content)

    def rate(seconds: list[float]) -> dict[str, float]:
        return summary([ROWS / s for s in seconds])

    dry_rate, real_rate, plain_rate = rate(dry), rate(real), rate(plain)
    relay_rate = ROWS / with_relay

    def cells(label: str, figures: dict[str, float]) -> tuple[str, str, str]:
        return label, f"{figures['median']:.0f}", f"{figures['spread_pct']:.0f}%"

    rows = [
        ("10,000-row CSV", "rows/s (median)", "spread"),
        cells("insert_many, same documents", plain_rate),
        cells("import, dry run", dry_rate),
        cells("import", real_rate),
        ("import, relay publishing meanwhile", f"{relay_rate:.0f}", "1 run"),
        (
            "  ...all 10,000 events published after",
            f"{relayed:.1f} s" if relayed else f"> {RELAY_WAIT_SECONDS} s",
            f"{unpublished} unpublished then" if unpublished else "",
        ),
        ("import / insert_many", f"{real_rate['median'] / plain_rate['median']:.2f}", ""),
    ]  # fmt: skip
    report(
        "booking_clients",
        rows,
        {
            "rows": ROWS,
            "csv_bytes": len(content),
            "insert_many_rows_per_s": round(plain_rate["median"]),
            "import_dry_run_rows_per_s": round(dry_rate["median"]),
            "import_rows_per_s": round(real_rate["median"]),
            "import_with_relay_rows_per_s": round(relay_rate),
            "events_all_published_after_s": round(relayed, 1) if relayed else None,
            "events_unpublished_after_wait": unpublished,
            "import_vs_insert_many": round(real_rate["median"] / plain_rate["median"], 3),
            "spread_pct": {
                "insert_many": round(plain_rate["spread_pct"], 1),
                "dry_run": round(dry_rate["spread_pct"], 1),
                "import": round(real_rate["spread_pct"], 1),
            },
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
