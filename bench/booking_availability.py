"""Availability for a month with 20 resources, next to one plain query for the same bookings.

    make bench-booking_availability

The anchor is the database read that availability cannot avoid (the month's live sessions of
those resources, one `find`); the ratio is what computing the bookable starts costs on top.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this folder comes first on the path; keep it from shadowing packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parent))

from _harness import report, summary  # noqa: E402

from booking.scheduling.repository import INDEXES, SchedulingRepository  # noqa: E402
from booking.scheduling.schemas import BookSession, OpeningHoursIn, ResourceIn, SessionTypeIn  # noqa: E402
from booking.scheduling.service import SchedulingService  # noqa: E402
from kit.mongo import connect_mongo, ensure_indexes  # noqa: E402
from kit.settings import InfraSettings  # noqa: E402

RESOURCES = 20
BOOKINGS = 400
REPEATS = 7
MONTH_START = datetime(2027, 3, 1, tzinfo=UTC)
MONTH_END = datetime(2027, 4, 1, tzinfo=UTC)


async def main() -> None:
    infra = InfraSettings()
    mongo = connect_mongo(infra.mongo_url, app_name="bench")
    db = mongo[f"bench_{uuid.uuid4().hex[:6]}"]
    try:
        await ensure_indexes(db, INDEXES)
        repo = SchedulingRepository(db)
        service = SchedulingService(repo, timezone="America/Chicago")
        resources = [
            (
                await service.create_resource(
                    ResourceIn(name=f"Photographer {i}", kind="photographer")
                )
            ).id
            for i in range(RESOURCES)
        ]
        await service.add_opening_hours(
            OpeningHoursIn(
                resource_ids=resources,
                weekdays=[0, 1, 2, 3, 4],
                opens="09:00",
                closes="17:00",
                valid_from="2027-01-01",
            )  # type: ignore[arg-type]
        )
        stype = await service.create_session_type(
            SessionTypeIn(
                name="Portrait",
                duration_minutes=60,
                buffer_after_minutes=15,
                start_every_minutes=30,
                resource_ids=resources,
            )
        )
        await db["clients"].insert_one({"_id": "bench-client"})
        booked = 0
        moment = MONTH_START + timedelta(hours=15)  # 09:00 Chicago
        while booked < BOOKINGS:
            if moment.weekday() < 5:
                try:
                    await service.book(
                        BookSession(
                            client_id="bench-client", session_type_id=stype.id, starts_at=moment
                        )
                    )
                    booked += 1
                except Exception:
                    pass
            moment += timedelta(hours=2) if moment.hour < 21 else timedelta(hours=18)

        async def anchor() -> float:
            started = time.perf_counter()
            await repo.busy(resources, MONTH_START, MONTH_END, datetime.now(UTC))
            return time.perf_counter() - started

        async def ours() -> tuple[float, int]:
            started = time.perf_counter()
            result = await service.availability(
                stype.id, MONTH_START, MONTH_END, not_before=MONTH_START
            )
            return time.perf_counter() - started, len(result.starts)

        await anchor()
        await ours()  # warm
        anchor_s, ours_s, starts = [], [], 0
        for _ in range(REPEATS):
            anchor_s.append(await anchor())
            seconds, starts = await ours()
            ours_s.append(seconds)
    finally:
        await mongo.drop_database(db.name)
        await mongo.close()

    a, o = summary(anchor_s), summary(ours_s)
    ratio = o["median"] / a["median"]
    rows = [
        (
            "measure",
            "one find of the month's bookings (anchor)",
            "availability, 20 resources, one month",
        ),
        ("time (median ms)", f"{a['median'] * 1000:.1f}", f"{o['median'] * 1000:.1f}"),
        ("spread", f"{a['spread_pct']:.0f}%", f"{o['spread_pct']:.0f}%"),
        ("bookable starts", "", str(starts)),
        ("ratio", "1.00", f"{ratio:.2f}"),
    ]
    report(
        "booking_availability",
        rows,
        {
            "resources": RESOURCES,
            "bookings": BOOKINGS,
            "repeats": REPEATS,
            "anchor_ms": {k: round(v * 1000, 2) for k, v in a.items() if k != "spread_pct"}
            | {"spread_pct": round(a["spread_pct"], 1)},
            "availability_ms": {k: round(v * 1000, 2) for k, v in o.items() if k != "spread_pct"}
            | {"spread_pct": round(o["spread_pct"], 1)},
            "starts": starts,
            "availability_over_anchor": round(ratio, 2),
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
