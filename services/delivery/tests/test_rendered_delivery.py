"""A studio delivers watermarked low-res versions: rendered through a named profile first.

The delivery asks the real render service (in-process, with its workers and the workflow
service it reads) for a run; the run's end, read by delivery's consumer from render's topic,
lets the delivery be packaged, or fails it with render's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image
from pymongo import AsyncMongoClient

from delivery.consumers import subscriptions
from delivery.deliveries.rendering import CALLER, HTTP_KEY
from delivery.deliveries.stalls import sweep_stalled_renders
from kit.events.consumer import EventConsumer
from kit.events.contracts.render import TOPIC as RENDER_TOPIC
from kit.events.kafka import EventPublisher
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, eventually, running
from render.context import context_of
from render.runs.render_sets import CALLER as RENDER_CALLER
from render.runs.render_sets import HTTP_KEY as RENDER_WORKFLOW_KEY
from render.worker import TaskMember


def photo(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.effect_noise((1200, 800), 30 + rng.randint(0, 30)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Render:
    http: httpx.AsyncClient
    app: Any
    topic: str

    async def profile(self, **body: Any) -> Document:
        answer = await self.http.post("/profiles", json=body)
        assert answer.status_code == 201, answer.text
        created: Document = answer.json()
        return created


@contextlib.asynccontextmanager
async def render_service(unique: str, infra: InfraSettings) -> AsyncIterator[Render]:
    """The real render service with one worker, and the workflow service it reads render sets
    from; its events on a topic of the test's own."""
    prefix = f"t{unique}."
    render_infra = infra.model_copy(update={"topic_prefix": prefix})
    app = build_app(
        "render",
        database=f"t_{unique}_render",
        infra=render_infra,
        worker_concurrency=1,
        worker_group=f"render-workers-{unique}",
        outbox_poll_seconds=0.1,
    )
    workflow_app = build_app("workflow", database=f"t_{unique}_wf", infra=render_infra)
    try:
        async with running(workflow_app), running(app) as http:
            ctx = context_of(app.state.platform)
            ctx.platform.extras[RENDER_WORKFLOW_KEY] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=workflow_app),
                base_url="http://workflow.test",
                headers=RENDER_CALLER,
            )
            member = TaskMember(ctx, "w1")
            stop = asyncio.Event()
            task = asyncio.create_task(member.run(stop))

            async def joined() -> bool:
                return bool(member.partitions)

            try:
                await eventually(joined, timeout=60, what="the render worker to join its group")
                yield Render(http, app, prefix + RENDER_TOPIC)
            finally:
                stop.set()
                await task
                await ctx.platform.extras[RENDER_WORKFLOW_KEY].aclose()
    finally:
        client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url)
        await client.drop_database(f"t_{unique}_render")
        await client.drop_database(f"t_{unique}_wf")
        await client.close()


@contextlib.asynccontextmanager
async def delivery_consuming(service: Any, topic: str, unique: str) -> AsyncIterator[None]:
    """Delivery's consumers, reading render's events."""
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
        yield
    finally:
        stop.set()
        await task
        await publisher.stop()


def wire(service: Any, render: Render) -> None:
    """Delivery's calls to render go to the in-process render service."""
    service.ctx.platform.extras[HTTP_KEY] = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=render.app),
        base_url="http://render.test",
        headers=CALLER,
    )


async def test_a_watermarked_low_res_delivery_is_rendered_first_then_packaged(
    delivery_service: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with delivery_service() as service:
        keys = [f"sessions/{session}/hires/IMG_{i:04d}.jpg" for i in range(3)]
        for i, key in enumerate(keys):
            await service.ctx.storage.put(
                service.infra.images_bucket, key, photo(i), content_type="image/jpeg"
            )
        async with render_service(unique, service.infra) as render:
            wire(service, render)
            # "deliver" on the profile: the run still makes no delivery of its own.
            web = await render.profile(
                name="Web proof",
                purpose="proof",
                size={"long_edge_px": 300},
                watermark={"text": "PROOF", "position": "tiled"},
                deliver=True,
            )
            async with delivery_consuming(service, render.topic, unique):
                answer = await service.http.post(
                    "/deliveries",
                    json={
                        "session_id": session,
                        "keys": keys,
                        "profile_ids": [web["id"]],
                        "title": "Proofs",
                    },
                )
                assert answer.status_code == 202, answer.text
                asked = answer.json()
                assert asked["status"] == "rendering"
                assert asked["profile_ids"] == [web["id"]]
                assert asked["render_run_id"] is not None
                delivery = await service.settled(asked["id"])
            run = (await render.http.get(f"/runs/{asked['render_run_id']}")).json()

        assert run["reference"] == f"delivery:{asked['id']}"
        assert delivery["status"] == "ready", delivery
        assert delivery["render_run_id"] == run["id"]
        assert len(delivery["files"]) == 3
        assert sorted(f["bytes"] for f in delivery["files"]) == sorted(
            o["bytes"] for o in run["outputs"]
        )
        listed = (await service.http.get("/deliveries", params={"session_id": session})).json()
        assert [d["id"] for d in listed] == [asked["id"]]

        link = await service.issue(delivery["id"])
        located = await service.http.get(service.path_of(link["url"]) + "/archives/1")
        async with httpx.AsyncClient() as s3:
            archive = (await s3.get(located.headers["location"])).content
        with zipfile.ZipFile(io.BytesIO(archive)) as unpacked:
            names = [n for n in unpacked.namelist() if n != "SHA256SUMS"]
            assert len(names) == 3
            for name in names:
                with Image.open(io.BytesIO(unpacked.read(name))) as image:
                    assert max(image.size) == 300  # the low-res render, not the original


async def test_a_failed_render_fails_the_delivery_with_renders_reason(
    delivery_service: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with delivery_service() as service:
        present = f"sessions/{session}/hires/IMG_0001.jpg"
        missing = f"sessions/{session}/hires/IMG_0404.jpg"
        await service.ctx.storage.put(service.infra.images_bucket, present, photo(1))
        async with render_service(unique, service.infra) as render:
            wire(service, render)
            web = await render.profile(name="Web", purpose="proof", size={"long_edge_px": 300})
            async with delivery_consuming(service, render.topic, unique):
                answer = await service.http.post(
                    "/deliveries",
                    json={
                        "session_id": session,
                        "keys": [present, missing],
                        "profile_ids": [web["id"]],
                    },
                )
                assert answer.status_code == 202, answer.text
                delivery = await service.settled(answer.json()["id"])

            # A profile render does not know is refused at once; nothing is kept.
            unknown = await service.http.post(
                "/deliveries",
                json={"session_id": session, "keys": [present], "profile_ids": ["prf_nothing"]},
            )
        assert delivery["status"] == "failed"
        assert delivery["failure"].startswith("Rendering failed:")
        assert "IMG_0404" in delivery["failure"]
        assert delivery["files"] == []
        assert delivery["links"] == []
        [failed] = await service.events(delivery["id"], "delivery.delivery.failed.v1")
        assert failed["data"]["reason"] == delivery["failure"]

        assert unknown.status_code == 422
        assert unknown.json()["error"] == "unprocessable"
        assert "Render refused the run" in unknown.json()["message"]
        assert unknown.json()["detail"]["render"] == {"missing": ["prf_nothing"]}
        listed = (await service.http.get("/deliveries", params={"session_id": session})).json()
        assert [d["id"] for d in listed] == [delivery["id"]]


async def test_render_out_of_reach_answers_503_and_keeps_no_delivery(
    delivery_service: Any, unique: str
) -> None:
    # Nothing listens on port 9 of loopback: the connection is refused at once.
    async with delivery_service(render_url="http://127.0.0.1:9") as service:
        answer = await service.http.post(
            "/deliveries",
            json={
                "session_id": "s1",
                "keys": ["sessions/s1/hires/a.jpg"],
                "profile_ids": ["prf_web"],
            },
        )
        assert answer.status_code == 503
        assert answer.json()["error"] == "service_unavailable"
        assert (await service.http.get("/deliveries")).json() == []


async def test_a_delivery_left_rendering_is_re_driven_once_then_failed_with_a_reason(
    delivery_service: Any, unique: str
) -> None:
    session = f"s-{unique}"
    # The test sweeps itself: the API process's sweep waits an hour between its passes.
    async with delivery_service(rendering_stall_seconds=1, rendering_sweep_seconds=3600) as service:
        keys = [f"sessions/{session}/hires/IMG_{i:04d}.jpg" for i in range(2)]
        for i, key in enumerate(keys):
            await service.ctx.storage.put(
                service.infra.images_bucket, key, photo(i), content_type="image/jpeg"
            )
        async with render_service(unique, service.infra) as render:
            wire(service, render)
            web = await render.profile(name="Web", purpose="proof", size={"long_edge_px": 200})

            async def asked() -> Document:
                answer = await service.http.post(
                    "/deliveries",
                    json={"session_id": session, "keys": keys, "profile_ids": [web["id"]]},
                )
                assert answer.status_code == 202, answer.text
                made: Document = answer.json()
                return made

            # 1. Render finished the run, but its event never reached delivery (no consumer
            # runs here): the delivery is left `rendering`.
            lost = await asked()

            async def run_done() -> bool:
                run = (await render.http.get(f"/runs/{lost['render_run_id']}")).json()
                return bool(run["status"] == "completed")

            await eventually(run_done, timeout=90, what="render to finish the run")
            await asyncio.sleep(1.1)  # the stall time passes
            assert (await service.http.get(f"/deliveries/{lost['id']}")).json()[
                "status"
            ] == "rendering"
            assert await sweep_stalled_renders(service.ctx) >= 1
            packaged = await service.settled(lost["id"])
            assert packaged["status"] == "ready"
            assert len(packaged["files"]) == 2

            # 2. The process died before render answered: no run. Render is asked again, once.
            orphan = await asked()
            await service.ctx.db["deliveries"].update_one(
                {"_id": orphan["id"]}, {"$set": {"render_run_id": None}}
            )
            await asyncio.sleep(1.1)
            await sweep_stalled_renders(service.ctx)
            again = (await service.http.get(f"/deliveries/{orphan['id']}")).json()
            assert again["status"] == "rendering"
            assert again["render_run_id"] not in (None, orphan["render_run_id"])
            stored = await service.ctx.db["deliveries"].find_one({"_id": orphan["id"]})
            assert stored is not None
            assert stored["render_asks"] == 2

            # 3. Render loses that run too (it knows no such run now): the second stall fails
            # the delivery, saying why; a later sweep leaves it be.
            await service.ctx.db["deliveries"].update_one(
                {"_id": orphan["id"]}, {"$set": {"render_run_id": "run_lost"}}
            )
            await asyncio.sleep(1.1)
            await sweep_stalled_renders(service.ctx)
            failed = (await service.http.get(f"/deliveries/{orphan['id']}")).json()
            assert failed["status"] == "failed"
            assert failed["failure"].startswith("Rendering made no progress for 1 s")
            assert "run_lost" in failed["failure"]
            assert await sweep_stalled_renders(service.ctx) == 0
            [event] = await service.events(orphan["id"], "delivery.delivery.failed.v1")
            assert event["data"]["reason"] == failed["failure"]
