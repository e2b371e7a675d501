"""Render worker benchmark: `python -m render.worker` with two processes against one, end to end.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/render_worker.py
    (or make bench-render_worker, against the bench servers)

Two stacks run side by side, each the render API (`python -m render`) and one worker
(`python -m render.worker`) with RENDER_WORKER_CONCURRENCY 1 (the anchor) or 2 (the target), on
a database, topic prefix and consumer group of its own. Both render the same BENCH_IMAGES
(default 36) seeded 12 MP JPEGs in S3 as 2048 px proofs, a new profile every round so nothing
is reused. Rounds alternate the stacks (the order flips every round); a round is one run, timed
from POST /runs until GET /runs/{id} says completed. Prints the median throughput ratio with
its spread, the workers' CPU time per render (psutil), how the tasks split over the members
(Kafka spreads partitions, and the task id picks the partition) and the load average; then
removes its databases, topics and objects. For comparison it then measures the pixel pipeline
alone (the same renders from local files, no servers) in one plain process and in two: what the
machine's cores give at that moment. The machine is shared: a high load average means the
second process had no free core to run on, so repeat the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _render_cases as cases
import httpx
import psutil
from _harness import report, summary
from aiokafka.admin import AIOKafkaAdminClient

from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.storage import S3Storage

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
IMAGES = int(os.environ.get("BENCH_IMAGES", "36"))
PHOTO = (4000, 3000)  # 12 MP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Stack:
    """The render API and one worker with `processes` member processes, on their own names."""

    processes: int
    tag: str
    logs: Path
    port: int = field(default_factory=free_port)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def database(self) -> str:
        return f"bench_render_{self.tag}"

    @property
    def prefix(self) -> str:
        return f"bench-{self.tag}."

    @property
    def group(self) -> str:
        return f"bench-render-workers-{self.tag}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RENDER_PORT": str(self.port),
            "RENDER_DATABASE": self.database,
            "STUDIO_TOPIC_PREFIX": self.prefix,
            "RENDER_WORKER_GROUP": self.group,
            "RENDER_WORKER_CONCURRENCY": str(self.processes),
            "STUDIO_LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        for module in ("render", "render.worker"):
            log = (self.logs / f"{self.tag}-{module}.log").open("wb")
            self.children.append(
                subprocess.Popen(
                    [sys.executable, "-m", module], env=self.env(), stdout=log, stderr=log
                )
            )

    @property
    def worker(self) -> psutil.Process:
        return psutil.Process(self.children[1].pid)

    def worker_cpu_s(self) -> float:
        """CPU seconds of the worker and its member processes so far."""
        processes = [self.worker, *self.worker.children(recursive=True)]
        total = 0.0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


async def wait_ready(http: httpx.AsyncClient, stack: Stack) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get("/readyz")).status_code == 200:
                return
        if any(child.poll() is not None for child in stack.children):
            break
        await asyncio.sleep(0.3)
    raise RuntimeError(f"the {stack.tag} stack did not start; see its logs in {stack.logs}")


async def wait_members(infra: InfraSettings, stack: Stack) -> None:
    """Until the worker's consumer group is stable with one member per process."""
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # the group may not exist yet
                described = await admin.describe_consumer_groups([stack.group])
                group = described[0].groups[0]
                state, members = group[2], group[5]
                if state == "Stable" and len(members) == stack.processes:
                    return
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    raise RuntimeError(f"the {stack.tag} worker's members did not join; logs in {stack.logs}")


async def one_run(
    http: httpx.AsyncClient, stack: Stack, session: str, keys: list[str], label: str
) -> dict[str, Any]:
    """Render every key once through a new profile; seconds, worker CPU and the split."""
    profile = await http.post(
        "/profiles",
        json={
            "name": f"bench {label}",
            "purpose": "proof",
            "size": {"long_edge_px": 2048},
            "dpi": 72,
            "format": {"kind": "jpeg", "quality": 85},
        },
    )
    profile.raise_for_status()
    job = await http.post(
        "/jobs",
        json={
            "name": f"bench {label}",
            "entity_kind": "session",
            "select_status": "bench-never",
            "profile_ids": [profile.json()["id"]],
            "images": {"kind": "keys", "keys": keys},
        },
    )
    job.raise_for_status()
    cpu_before = stack.worker_cpu_s()
    started = time.perf_counter()
    answer = await http.post(
        "/runs",
        json={
            "job_id": job.json()["id"],
            "entity_kind": "session",
            "entity_id": session,
            "session_id": session,
        },
    )
    answer.raise_for_status()
    run_id = answer.json()["id"]
    while True:
        run = (await http.get(f"/runs/{run_id}")).json()
        if run["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    cpu_s = stack.worker_cpu_s() - cpu_before
    if run["status"] != "completed" or len(run["outputs"]) != len(keys):
        raise RuntimeError(f"run {run_id} on {stack.tag}: {run['status']}, {run.get('error')}")
    split = Counter(o["rendered_by"] for o in run["outputs"])
    return {
        "seconds": seconds,
        "renders_per_s": len(keys) / seconds,
        "cpu_per_render_s": cpu_s / len(keys),
        # Cores the worker kept busy on average: near its process count on an idle machine.
        "cores_used": cpu_s / seconds,
        "largest_share": max(split.values()) / len(keys),
    }


def photos() -> list[bytes]:
    return [
        cases.make_photo(*PHOTO, seed=seed, icc=cases.adobe_rgb_icc() if seed % 2 else None)
        for seed in range(4)
    ]


# The machine's own scaling, for comparison: the same renders in 1 or 2 plain processes, no I/O.


def _render_files(paths: list[str]) -> int:
    from render.imaging.pipeline import render
    from render.imaging.specs import FileFormat, OutputSize, RenderSpec

    spec = RenderSpec(size=OutputSize(long_edge_px=2048), dpi=72, format=FileFormat(quality=85))
    for path in paths:
        render(Path(path).read_bytes(), spec)
    return len(paths)


def pipeline_scaling(folder: Path) -> dict[str, float]:
    """Median renders/s of the pixel pipeline alone in one process and in two (alternating)."""
    paths = []
    for n, body in enumerate(photos()):
        paths.append(str(folder / f"photo{n}.jpg"))
        Path(paths[-1]).write_bytes(body)
    work = paths * 3
    spawn = multiprocessing.get_context("spawn")
    rates: dict[int, list[float]] = {1: [], 2: []}
    with spawn.Pool(1) as one, spawn.Pool(2) as two:
        pools = {1: one, 2: two}
        for pool in pools.values():
            pool.map(_render_files, [paths[:1]] * 2)  # warm: imports, first-call costs
        for index in range(ROUNDS):
            for processes in (1, 2) if index % 2 == 0 else (2, 1):
                started = time.perf_counter()
                chunks = [work[i::processes] for i in range(processes)]
                done = sum(pools[processes].map(_render_files, chunks))
                rates[processes].append(done / (time.perf_counter() - started))
    ratios = [b / a for a, b in zip(rates[1], rates[2], strict=True)]
    return {
        "one_per_s": statistics.median(rates[1]),
        "two_per_s": statistics.median(rates[2]),
        **{f"ratio_{k}": v for k, v in summary(ratios).items()},
    }


async def upload(storage: S3Storage, bucket: str, session: str) -> list[str]:
    photos_ = photos()
    keys = [f"sessions/{session}/hires/IMG_{n:04d}.jpg" for n in range(IMAGES)]
    await storage.ensure_bucket(bucket)
    for n, key in enumerate(keys):
        await storage.put(bucket, key, photos_[n % len(photos_)], content_type="image/jpeg")
    return keys


async def clean(
    infra: InfraSettings, storage: S3Storage, session: str, stacks: list[Stack]
) -> None:
    def remove_objects() -> None:
        paginator = storage.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=infra.images_bucket, Prefix=f"sessions/{session}/"):
            for item in page.get("Contents", []):
                storage.client.delete_object(Bucket=infra.images_bucket, Key=item["Key"])

    await asyncio.to_thread(remove_objects)
    mongo = connect_mongo(infra.mongo_url, app_name="bench")
    for stack in stacks:
        await mongo.drop_database(stack.database)
    await mongo.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        topics = [
            t for t in await admin.list_topics() if t.startswith(tuple(s.prefix for s in stacks))
        ]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


async def measure(logs: Path) -> dict[str, Any]:
    infra = InfraSettings()
    storage = S3Storage(infra)
    tag = uuid.uuid4().hex[:8]
    session = f"bench-worker-{tag}"
    stacks = [Stack(1, f"{tag}-p1", logs), Stack(2, f"{tag}-p2", logs)]
    results: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    try:
        keys = await upload(storage, infra.images_bucket, session)
        for stack in stacks:
            stack.start()
        clients = {
            s.processes: httpx.AsyncClient(base_url=f"http://127.0.0.1:{s.port}", timeout=60)
            for s in stacks
        }
        for stack in stacks:
            await wait_ready(clients[stack.processes], stack)
            await wait_members(infra, stack)
            await one_run(clients[stack.processes], stack, session, keys, "warm-up")
        for index in range(ROUNDS):
            for stack in stacks if index % 2 == 0 else list(reversed(stacks)):
                result = await one_run(
                    clients[stack.processes], stack, session, keys, f"round {index}"
                )
                results[stack.processes].append(result)
                print(f"  round {index}, {stack.processes} process(es): {result}", flush=True)
        for client in clients.values():
            await client.aclose()
    finally:
        for stack in stacks:
            stack.stop()
        await clean(infra, storage, session, stacks)
        storage.close()
    ratios = [
        two["renders_per_s"] / one["renders_per_s"]
        for one, two in zip(results[1], results[2], strict=True)
    ]
    return {"results": results, "ratio": summary(ratios)}


def main() -> None:
    load_start = os.getloadavg()[0]
    print(
        f"{ROUNDS} rounds of {IMAGES} renders (12 MP -> 2048 px proofs); {os.cpu_count()} cores;"
        f" load average {load_start:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-render-worker-") as folder:
        measured = asyncio.run(measure(Path(folder)))
        machine = pipeline_scaling(Path(folder))
    load_end = os.getloadavg()[0]
    results, ratio = measured["results"], measured["ratio"]

    def median(processes: int, name: str) -> float:
        return statistics.median(r[name] for r in results[processes])

    rows = [
        ("target (issue 6)", "measured (median, spread)", "verdict and detail"),
        (
            "two worker processes on two cores: >= 1.8x the throughput of one",
            f"{ratio['median']:.2f}x (±{ratio['spread_pct']:.0f}%)",
            f"{'met' if ratio['median'] >= 1.8 else 'NOT met'}; {median(1, 'renders_per_s'):.2f}"
            f" -> {median(2, 'renders_per_s'):.2f} renders/s; worker CPU per render"
            f" {1000 * median(1, 'cpu_per_render_s'):.0f} ms with one process,"
            f" {1000 * median(2, 'cpu_per_render_s'):.0f} ms with two; the busiest member"
            f" took {100 * median(2, 'largest_share'):.0f}% of a run's tasks; cores kept busy"
            f" {median(1, 'cores_used'):.2f} and {median(2, 'cores_used'):.2f}",
        ),
        (
            "for comparison: the pixel pipeline alone, 2 processes vs 1 (no I/O)",
            f"{machine['ratio_median']:.2f}x (±{machine['ratio_spread_pct']:.0f}%)",
            f"{machine['one_per_s']:.2f} -> {machine['two_per_s']:.2f} renders/s: what this"
            " machine's two cores give right now",
        ),
        (
            "load average (1 min) at start / end",
            f"{load_start:.2f} / {load_end:.2f}",
            f"{os.cpu_count()} cores, shared; above ~1 the second process has no free core",
        ),
    ]
    figures = {
        "rounds": ROUNDS,
        "images": IMAGES,
        "ratio": ratio,
        "one_process": {k: median(1, k) for k in results[1][0]},
        "two_processes": {k: median(2, k) for k in results[2][0]},
        "pipeline_alone": machine,
        "load_average": {"start": load_start, "end": load_end},
    }
    report("render_worker", rows, figures)


if __name__ == "__main__":
    main()
