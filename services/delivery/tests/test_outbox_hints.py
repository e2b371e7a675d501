"""A write that carries events tells the outbox relay which documents it wrote, so the relay
reads just those: a change does not make it scan every outbox collection (on the local
MongoDB-wire server each scan reads whole collections, which is what made convergence slow)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from kit.events.contracts.delivery import DeliveryDownloaded
from kit.events.envelope import Envelope, source_of
from kit.events.outbox import new_document_with_events


async def test_a_download_is_relayed_by_its_id_without_scanning_every_outbox(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        opened = time.monotonic()
        images = await service.upload("ob1", 1, size=20_000)
        delivery = await service.deliver("ob1", list(images))
        link = await service.issue(delivery["id"])
        await service.events(delivery["id"], "delivery.delivery.ready.v1")

        # An event a crashed writer left behind, which only a scan would find.
        stray_id = f"dlv_stray_{uuid.uuid4().hex[:8]}"
        stray = Envelope.wrap(
            DeliveryDownloaded(
                delivery_id=stray_id,
                link_id="lnk_stray",
                file_name="stray.jpg",
                bytes=1,
                downloaded_at=datetime.now(UTC),
            ),
            subject=stray_id,
            source=source_of("delivery"),
        )
        await service.ctx.db["downloads"].insert_one(
            new_document_with_events({"_id": f"dl_{stray_id}", "delivery_id": stray_id}, stray)
        )

        files = service.path_of(link["url"]) + "/files/1"
        assert (await service.http.get(files)).status_code == 303
        [downloaded] = await service.events(delivery["id"], "delivery.delivery.downloaded.v1")
        assert downloaded["data"]["link_id"] == link["id"]
        # The relay published the download it was told of, and left the stray one for its
        # periodic scan (every 30 s from the start; this test is well inside the first one).
        assert time.monotonic() - opened < 30, "too slow to tell a hint from the periodic scan"
        left = await service.ctx.db["downloads"].find_one({"_id": f"dl_{stray_id}"})
        assert left is not None
        assert [e["id"] for e in left["_outbox"]] == [str(stray.id)]

        # A scan finds it in the end (asked for here; the fixture's drain waits for it).
        relay = service.ctx.platform.relay
        assert relay is not None
        relay.notify()
