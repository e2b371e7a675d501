"""The gateway's overhead: requests/s and p50/p99 latency of a small GET through the gateway next
to the same GET straight at the service, in one run; and the gateway's RSS during a 200 MB
streamed upload.

The service (a tiny Starlette app) and the gateway (`python -m gateway`) each run in their own
process on loopback ports; this process is the client (httpx, a fixed number of concurrent
requests). Repeats alternate direct and gateway so both see the same machine.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/gateway.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from _harness import percentile, report, summary

from kit.mongo import connect_mongo
from kit.settings import InfraSettings

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REQUESTS = 2000
CONCURRENCY = 16
REPEATS = 3
UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK = 1024 * 1024
OWNER_EMAIL = "bench-owner@studio.test"
OWNER_PASSWORD = "bench owner password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _service_main(port: int) -> None:
    """The little service: a small JSON GET and an upload sink that reads the stream."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def small(_: Request) -> Response:
        return JSONResponse({"id": "s1", "status": "booked", "client": "Ann"})

    async def sink(request: Request) -> Response:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return JSONResponse({"size": size})

    async def ready(_: Request) -> Response:
        return JSONResponse({"status": "ready"})

    app = Starlette(
        routes=[
            Route("/small", small),
            Route("/upload", sink, methods=["POST"]),
            Route("/readyz", ready),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start")
            await asyncio.sleep(0.1)


async def _load(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, float]:
    latencies: list[float] = []
    remaining = REQUESTS

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            answer = await client.get(url, headers=headers)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"{url} answered {answer.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
    }


async def _upload_body() -> AsyncIterator[bytes]:
    block = b"\x5a" * CHUNK
    for _ in range(UPLOAD_BYTES // CHUNK):
        yield block


async def _upload_rss(
    client: httpx.AsyncClient, url: str, token: str, pid: int
) -> dict[str, float]:
    baseline = _rss_mib(pid)
    peak = baseline
    samples = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak, samples
        while not done.is_set():
            peak = max(peak, _rss_mib(pid))
            samples += 1
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    answer = await client.post(
        f"{url}/api/workflow/upload",
        content=_upload_body(),
        headers={"Authorization": f"Bearer {token}", "content-length": str(UPLOAD_BYTES)},
    )
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    if answer.json().get("size") != UPLOAD_BYTES:
        raise RuntimeError(f"upload answered {answer.status_code} {answer.text[:200]}")
    return {
        "rss_before_mib": baseline,
        "rss_peak_mib": peak,
        "rss_growth_mib": peak - baseline,
        "upload_mib_s": UPLOAD_BYTES / CHUNK / elapsed,
        "rss_samples": samples,
    }


async def main() -> None:
    service_port, gateway_port = _free_port(), _free_port()
    service_url = f"http://127.0.0.1:{service_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    database = f"bench_gateway_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "GATEWAY_PORT": str(gateway_port),
        "GATEWAY_DATABASE": database,
        "GATEWAY_OWNER_EMAIL": OWNER_EMAIL,
        "GATEWAY_OWNER_PASSWORD": OWNER_PASSWORD,
        "GATEWAY_UPSTREAM_READ_TIMEOUT_SECONDS": "60",
        "STUDIO_LOG_LEVEL": "WARNING",
        **{
            f"GATEWAY_{name.upper()}_URL": service_url
            for name in ("booking", "workflow", "render", "delivery", "maps", "notify")
        },
    }
    service = await asyncio.create_subprocess_exec(
        PYTHON, __file__, "--service", str(service_port), cwd=REPO, env=env
    )
    gateway = await asyncio.create_subprocess_exec(PYTHON, "-m", "gateway", cwd=REPO, env=env)
    try:
        await _wait_up(gateway_url)
        async with httpx.AsyncClient(timeout=120) as client:
            for _ in range(100):
                if (await client.get(f"{service_url}/readyz")).status_code == 200:
                    break
            login = await client.post(
                f"{gateway_url}/auth/login",
                json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD},
            )
            token = login.json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            limits = httpx.Limits(
                max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY
            )
            async with httpx.AsyncClient(timeout=30, limits=limits) as loader:
                # Warm both paths (connections, JIT-less caches, the gateway's pool).
                await _load(loader, f"{service_url}/small", {})
                await _load(loader, f"{gateway_url}/api/booking/small", auth)
                direct: list[dict[str, float]] = []
                through: list[dict[str, float]] = []
                for _ in range(REPEATS):
                    direct.append(await _load(loader, f"{service_url}/small", {}))
                    through.append(await _load(loader, f"{gateway_url}/api/booking/small", auth))
            upload = await _upload_rss(client, gateway_url, token, gateway.pid)
    finally:
        for process in (gateway, service):
            process.terminate()
            async with asyncio.timeout(20):
                await process.wait()
        mongo = connect_mongo(InfraSettings().mongo_url, app_name="bench-gateway")
        await mongo.drop_database(database)
        await mongo.close()

    def median(samples: list[dict[str, float]], key: str) -> float:
        return summary([s[key] for s in samples])["median"]

    d_rps, g_rps = median(direct, "rps"), median(through, "rps")
    d_p50, g_p50 = median(direct, "p50_ms"), median(through, "p50_ms")
    d_p99, g_p99 = median(direct, "p99_ms"), median(through, "p99_ms")
    rows = [
        ("small GET", "direct", "through gateway"),
        ("requests/s", f"{d_rps:.0f}", f"{g_rps:.0f} ({g_rps / d_rps:.2f}x)"),
        ("p50 ms", f"{d_p50:.2f}", f"{g_p50:.2f} ({g_p50 / d_p50:.2f}x)"),
        ("p99 ms", f"{d_p99:.2f}", f"{g_p99:.2f} ({g_p99 / d_p99:.2f}x)"),
        ("200 MB upload", "gateway RSS before", f"{upload['rss_before_mib']:.1f} MiB"),
        ("", "gateway RSS peak", f"{upload['rss_peak_mib']:.1f} MiB"),
        ("", "RSS samples taken", f"{upload['rss_samples']:.0f}"),
        ("", "upload throughput", f"{upload['upload_mib_s']:.0f} MiB/s"),
    ]
    report(
        "gateway",
        rows,
        {
            "requests": REQUESTS,
            "concurrency": CONCURRENCY,
            "repeats": REPEATS,
            "direct_rps": round(d_rps, 1),
            "gateway_rps": round(g_rps, 1),
            "rps_ratio": round(g_rps / d_rps, 3),
            "direct_p50_ms": round(d_p50, 3),
            "gateway_p50_ms": round(g_p50, 3),
            "p50_ratio": round(g_p50 / d_p50, 3),
            "direct_p99_ms": round(d_p99, 3),
            "gateway_p99_ms": round(g_p99, 3),
            "p99_ratio": round(g_p99 / d_p99, 3),
            "rps_spread_pct": round(summary([s["rps"] for s in through])["spread_pct"], 1),
            "upload_mib": UPLOAD_BYTES // CHUNK,
            **{f"gateway_{k}": round(v, 1) for k, v in upload.items()},
        },
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--service":
        _service_main(int(sys.argv[2]))
    else:
        asyncio.run(main())
