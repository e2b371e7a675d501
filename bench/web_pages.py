"""The web app's cost over the gateway: time to first byte and full load of its pages next to
the gateway API calls that the page makes, made directly, in the same run.

The whole platform runs as processes (`infra/local/services.sh`, as `make run` starts it, web
app included) on ports, databases and topics of its own beside the bench servers. It seeds 500
booked sessions (booking's API; workflow learns them from booking's events) and one session
with 300 imported images, then measures, alternating page and anchor in each round:

- the hub (`/hub`, 500 sessions) against `GET /api/workflow/workflow/hub`;
- a session's grid (`/sessions/<id>`, 300 images) against the session record and its images;
- Today (`/`) against its five reads;
- in Chromium (Debian's, through Playwright), the hub's and the grid's full load (the
  navigation's `load` event: HTML, CSS, JS and the grid's preview images).

    make bench-web_pages        # BENCH_WEB_ROUNDS (default 7)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _harness import report, summary
from PIL import Image

from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.testing import (
    free_port_block,
    platform_env,
    platform_ports,
    services_sh,
    write_platform_env,
)

ROUNDS = int(os.environ.get("BENCH_WEB_ROUNDS", "7"))
SESSIONS = 500
IMAGES = 300
OWNER = {"email": "bench-owner@studio.test", "password": "bench owner's long password"}
CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
BOOKING = "/api/booking"
WORKFLOW = "/api/workflow/workflow"


def ok(answer: httpx.Response, status: int = 200) -> Any:
    if answer.status_code != status:
        raise RuntimeError(
            f"{answer.request.method} {answer.url}: {answer.status_code} {answer.text[:300]}"
        )
    return answer.json() if answer.content else None


def tiny_jpeg(n: int) -> bytes:
    # Noise, so that no two files are byte-identical (an import skips a file it already has;
    # flat colours a step apart compress to the same JPEG).
    image = Image.effect_noise((640, 427), 20 + n % 50).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def seed(gw: httpx.AsyncClient) -> tuple[str, str]:
    """500 booked sessions over the coming weeks and one session with 300 images."""
    room = ok(
        await gw.post(f"{BOOKING}/resources", json={"name": "Bench room", "kind": "room"}), 201
    )
    session_type = ok(
        await gw.post(
            f"{BOOKING}/session-types",
            json={"name": "Bench portrait", "duration_minutes": 30, "resource_ids": [room["id"]]},
        ),
        201,
    )
    client = ok(
        await gw.post(f"{BOOKING}/clients", json={"first_name": "Bench", "last_name": "Client"}),
        201,
    )
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    semaphore = asyncio.Semaphore(8)

    async def book(n: int) -> str:
        at = start + timedelta(days=n // 20, minutes=30 * (n % 20))
        async with semaphore:
            booked = ok(
                await gw.post(
                    f"{BOOKING}/sessions",
                    json={
                        "client_id": client["id"],
                        "session_type_id": session_type["id"],
                        "starts_at": at.isoformat(),
                        "resource_ids": [room["id"]],
                        "outside_hours": True,
                    },
                ),
                201,
            )
        return str(booked["id"])

    ids = await asyncio.gather(*(book(n) for n in range(SESSIONS)))
    print(f"booked {len(ids)} sessions", flush=True)
    deadline = time.monotonic() + 300
    while True:
        hub = ok(await gw.get(f"{WORKFLOW}/hub", params={"per_status": 0}))
        print(f"workflow knows {hub['total']} sessions", flush=True)
        if hub["total"] >= SESSIONS:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"workflow knows {hub['total']} of {SESSIONS} sessions")
        await asyncio.sleep(1)
    grid_session = ids[0]
    for batch in range(0, IMAGES, 50):
        files = [
            ("files", (f"{n:04d}.jpg", tiny_jpeg(n), "image/jpeg"))
            for n in range(batch + 1, batch + 51)
        ]
        ok(await gw.post(f"{WORKFLOW}/sessions/{grid_session}/imports", files=files), 201)
    while True:
        images = ok(await gw.get(f"{WORKFLOW}/sessions/{grid_session}/images"))
        made = sum(1 for i in images if i.get("preview"))
        print(f"{len(images)} images, {made} previews", flush=True)
        if len(images) >= IMAGES and all(i.get("preview") for i in images):
            break
        if time.monotonic() > deadline + 120:
            break  # measure with what render has made so far; said in the output
        await asyncio.sleep(2)
    return grid_session, session_type["id"]


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1000


async def first_byte_and_full(client: httpx.AsyncClient, path: str) -> tuple[float, float]:
    began = time.perf_counter()
    async with client.stream("GET", path) as answer:
        first = (time.perf_counter() - began) * 1000
        await answer.aread()
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")
    return first, (time.perf_counter() - began) * 1000


async def web_login(web: httpx.AsyncClient) -> None:
    from selectolax.lexbor import LexborHTMLParser

    page = await web.get("/login")
    node = LexborHTMLParser(page.text).css_first('input[name="csrf_token"]')
    token = node.attributes["value"] if node is not None else ""
    answer = await web.post("/login", data={**OWNER, "csrf_token": token, "next": "/"})
    if answer.status_code != 303:
        raise RuntimeError(f"web login: {answer.status_code} {answer.text[:200]}")


async def browser_loads(
    base: str, cookie: str, paths: list[str], rounds: int
) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    loads: dict[str, list[float]] = {p: [] for p in paths}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = await browser.new_context()
        await context.add_cookies([{"name": "studio_session", "value": cookie, "url": base}])
        page = await context.new_page()
        for _ in range(rounds):
            for path in paths:
                began = time.perf_counter()
                await page.goto(base + path, wait_until="load")
                loads[path].append((time.perf_counter() - began) * 1000)
        await browser.close()
    return loads


async def main() -> None:
    infra = InfraSettings()
    unique = uuid.uuid4().hex[:8]
    ports = platform_ports(free_port_block(7, 18600, 19000))
    state = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = platform_env(f"benchweb{unique}", ports) | {"RENDER_WORKER_CONCURRENCY": "2"}
    write_platform_env(state, env)
    gateway_url = f"http://127.0.0.1:{ports['gateway']}"
    web_url = f"http://127.0.0.1:{ports['web']}"
    started = await asyncio.to_thread(services_sh, "start", state, timeout=240)
    if started.returncode != 0:
        sys.exit(f"the platform did not start: {started.stderr}")
    try:
        async with (
            httpx.AsyncClient(base_url=gateway_url, timeout=120) as gw,
            httpx.AsyncClient(base_url=web_url, timeout=120) as web,
        ):
            tokens = ok(await gw.post("/auth/bootstrap", json=OWNER), 201)
            gw.headers["Authorization"] = f"Bearer {tokens['access_token']}"
            seeding = time.perf_counter()
            grid_session, _ = await seed(gw)
            seeded_s = time.perf_counter() - seeding
            images = ok(await gw.get(f"{WORKFLOW}/sessions/{grid_session}/images"))
            previews = sum(1 for i in images if i.get("preview"))
            await web_login(web)
            day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

            async def hub_api() -> None:
                ok(await gw.get(f"{WORKFLOW}/hub"))

            async def grid_api() -> None:
                await asyncio.gather(
                    gw.get(f"{WORKFLOW}/sessions/{grid_session}"),
                    gw.get(f"{WORKFLOW}/sessions/{grid_session}/images"),
                )

            async def today_api() -> None:
                await asyncio.gather(
                    gw.get(
                        f"{BOOKING}/sessions",
                        params={
                            "start": day.isoformat(),
                            "end": (day + timedelta(days=1)).isoformat(),
                        },
                    ),
                    gw.get(f"{BOOKING}/resources"),
                    gw.get(f"{WORKFLOW}/sessions", params={"overdue": "true", "limit": 50}),
                    gw.get(f"{WORKFLOW}/invoices", params={"limit": 200}),
                    gw.get("/api/render/runs", params={"limit": 100}),
                    gw.get("/api/delivery/deliveries", params={"limit": 100}),
                )

            pages = {
                "hub": ("/hub", hub_api),
                "grid": (f"/sessions/{grid_session}", grid_api),
                "today": ("/", today_api),
            }
            for path, anchor in pages.values():  # warm both once
                await first_byte_and_full(web, path)
                await anchor()
            samples: dict[str, dict[str, list[float]]] = {
                name: {"ttfb": [], "full": [], "api": []} for name in pages
            }
            for _ in range(ROUNDS):
                for name, (path, anchor) in pages.items():
                    first, full = await first_byte_and_full(web, path)
                    samples[name]["ttfb"].append(first)
                    samples[name]["full"].append(full)
                    samples[name]["api"].append(await timed(anchor))
            cookie = web.cookies.get("studio_session") or ""
        loads = await browser_loads(web_url, cookie, ["/hub", f"/sessions/{grid_session}"], ROUNDS)
    finally:
        await asyncio.to_thread(services_sh, "stop", state, timeout=120)
        mongo = connect_mongo(infra.mongo_url, app_name="bench-web-cleanup")
        with contextlib.suppress(Exception):
            for name in ports:
                await mongo.drop_database(env[f"{name.upper()}_DATABASE"])
        await mongo.close()

    rows = [("page", "median ms (min-max)", "ratio to the direct API calls")]
    figures: dict[str, Any] = {
        "rounds": ROUNDS,
        "sessions": SESSIONS,
        "images": IMAGES,
        "previews_ready": previews,
        "seed_seconds": round(seeded_s, 1),
        "load_average": os.getloadavg()[0],
    }
    for name, measured in samples.items():
        api = summary(measured["api"])
        for kind in ("ttfb", "full"):
            s = summary(measured[kind])
            ratio = s["median"] / api["median"]
            rows.append(
                (
                    f"{name} {kind}",
                    f"{s['median']:.1f} ({s['min']:.1f}-{s['max']:.1f})",
                    f"{ratio:.2f}",
                )
            )
            figures[f"{name}_{kind}_ms"] = round(s["median"], 1)
            figures[f"{name}_{kind}_ratio"] = round(ratio, 2)
        rows.append(
            (
                f"{name} api (anchor)",
                f"{api['median']:.1f} ({api['min']:.1f}-{api['max']:.1f})",
                "1.00",
            )
        )
        figures[f"{name}_api_ms"] = round(api["median"], 1)
    for path, values in loads.items():
        name = "hub" if path == "/hub" else "grid"
        s = summary(values)
        ratio = s["median"] / figures[f"{name}_api_ms"]
        rows.append(
            (
                f"{name} browser load",
                f"{s['median']:.1f} ({s['min']:.1f}-{s['max']:.1f})",
                f"{ratio:.2f}",
            )
        )
        figures[f"{name}_browser_load_ms"] = round(s["median"], 1)
        figures[f"{name}_browser_load_ratio"] = round(ratio, 2)
    print(
        f"seeded {SESSIONS} sessions and {IMAGES} images in {seeded_s:.0f} s;",
        f"{previews} previews ready",
    )
    report("web_pages", rows, figures)


if __name__ == "__main__":
    asyncio.run(main())
