"""A render task the workers give up on (kit dead-letters it after its attempts) still counts:
the consumers process records it as a failed image of its run, and the run closes once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from kit.consumers import consume
from kit.events.consumer import dead_letter_topic
from kit.events.contracts import workflow
from kit.events.contracts.render import TASKS_TOPIC
from kit.testing import eventually, read_topic
from render.config import RenderSettings
from render.consumers import subscriptions, task_dead_letter_group
from render.main import background_spec


@contextlib.asynccontextmanager
async def consumers_process(settings: RenderSettings, unique: str) -> AsyncIterator[None]:
    """`python -m render.consumers`, in-process: its main group and the task dead-letter group
    as `main()` wires them (on consumer group ids of the test's own)."""
    dead_letters = dataclasses.replace(
        task_dead_letter_group(settings), group_id=f"render-task-dlt-{unique}"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            background_spec(settings),
            group_id=f"render-{unique}",
            topics=[workflow.TOPIC],
            subscriptions=subscriptions,
            stop=stop,
            also=[dead_letters],
        )
    )
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(30):
            await task


async def test_a_task_whose_output_cannot_be_written_fails_its_image_and_the_run_closes_once(
    render_service: Any, make_photo: Any, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        photos = [make_photo(1500, 1000, seed=i) for i in range(3)]
        keys = [i["key"] for i in await service.workflow.session_with_photos(session, photos)]
        proof = await service.profile()
        job = await service.job(
            name="Proofs",
            entity_kind="session",
            select_status="x",
            profile_ids=[proof["id"]],
            finish_status="Presentation Ready",
            error_status="Proofs Failed",
        )
        # S3 stays unreachable for one image's output, for every attempt the worker makes.
        real_put = service.ctx.storage.put
        refused: list[str] = []

        async def put(bucket: str, key: str, body: Any, **kwargs: Any) -> None:
            if "/rendered/" in key and "IMG_0001" in key:
                refused.append(key)
                raise EndpointConnectionError(endpoint_url=f"http://s3.test/{bucket}/{key}")
            await real_put(bucket, key, body, **kwargs)

        monkeypatch.setattr(service.ctx.storage, "put", put)
        settings = service.ctx.settings
        dead_letter_topic_name = dead_letter_topic(
            settings.infra.topic_prefix + TASKS_TOPIC, settings.worker_group
        )
        async with service.workers("w1"):
            answer = await service.http.post(
                "/runs",
                json={"job_id": job["id"], "entity_id": session, "session_id": session},
            )
            assert answer.status_code == 202, answer.text
            run_id = answer.json()["id"]
            [given_up] = await read_topic(
                settings.infra.kafka_bootstrap, dead_letter_topic_name, 1, timeout=60
            )

            async def others_rendered() -> bool:
                run = (await service.http.get(f"/runs/{run_id}")).json()
                return bool(run["done"] == 2)

            await eventually(others_rendered, timeout=60, what="the other images to render")
            # Without the dead-letter group nothing accounts for the given-up task.
            stuck = (await service.http.get(f"/runs/{run_id}")).json()
            assert (stuck["status"], stuck["done"], stuck["total"]) == ("rendering", 2, 3)
            assert dict(given_up.headers)["dlt.error.type"] == b"EndpointConnectionError"

            async with consumers_process(settings, unique):
                run = await service.settled(run_id)
        assert len(refused) == 4  # kit's attempts, then the dead letter
        assert run["status"] == "failed"
        assert run["done"] == run["total"] == 3
        [failure] = run["failures"]
        [broken] = [k for k in keys if "IMG_0001" in k]
        assert failure["source_key"] == broken
        assert failure["reason"].startswith("the render workers gave up after 4 attempt(s): ")
        assert "EndpointConnectionError" in failure["reason"]
        assert "Could not connect to the endpoint URL" in failure["reason"]
        assert failure["rendered_by"] == settings.worker_group
        assert sorted(o["source_key"] for o in run["outputs"]) == sorted(set(keys) - {broken})
        for output in run["outputs"]:
            assert await service.download(output["key"])

        failed = await service.events(run_id, "render.run.failed.v1", wanted=2, timeout=10)
        assert len({e["id"] for e in failed}) == 1  # one event (at most redelivered as is)
        data = failed[0]["data"]
        assert data["error_status"] == "Proofs Failed"
        assert "1 of 3 renders failed" in data["error"]
        assert "EndpointConnectionError" in data["error"]
        assert [(f["key"], f["reason"]) for f in data["failures"]] == [(broken, failure["reason"])]
        assert sorted(o["key"] for o in data["outputs"]) == sorted(o["key"] for o in run["outputs"])
        assert not await service.events(run_id, "render.run.completed.v1", timeout=1)
