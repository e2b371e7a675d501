"""The web app's tests: the whole platform as processes (as `make run` starts it, with the web
app), on a block of free ports, databases and Kafka topics of its own, and no user at first.

The studio's owner is created once, through the first-run page in a real browser (Chromium,
driven by Playwright); every other test logs in as a person of a role. Screenshots go to
`$STUDIO_TEST_OUTPUT/screenshots` (default `.local/test/output`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.testing import (
    free_port_block,
    platform_env,
    platform_ports,
    services_sh,
    write_platform_env,
)

sys.path.insert(0, str(Path(__file__).parent))

from web_harness import (
    CHROMIUM,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    WebClient,
    WebPlatform,
    login,
    new_user,
)

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("STUDIO_TEST_OUTPUT", REPO / ".local" / "test" / "output"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    platform = getattr(item, "funcargs", {}).get("platform")
    if report.failed and isinstance(platform, WebPlatform):
        report.sections.append(("platform logs", platform.logs()))
    return report


@pytest.fixture(scope="session")
async def platform(
    infra: InfraSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebPlatform]:
    unique = uuid.uuid4().hex[:8]
    ports = platform_ports(free_port_block(8, 18200, 19000))
    state = tmp_path_factory.mktemp("web-platform")
    env = platform_env(f"web{unique}", ports) | {
        "DELIVERY_PACKAGING_POLL_SECONDS": "0.5",
        # Every browser login reaches the gateway from the web app's one address: the tests
        # log the owner in many times a minute, which is not what they are about.
        "GATEWAY_LOGIN_PER_ADDRESS": "10000",
        "GATEWAY_LOGIN_PER_ACCOUNT": "10000",
        "GATEWAY_LOGIN_PER_ACCOUNT_ADDRESS": "10000",
    }
    write_platform_env(state, env)
    platform = WebPlatform(
        web=f"http://127.0.0.1:{ports['web']}",
        gateway=f"http://127.0.0.1:{ports['gateway']}",
        state=state,
        databases={name: env[f"{name.upper()}_DATABASE"] for name in ports},
        topic_prefix=env["STUDIO_TOPIC_PREFIX"],
    )
    started = await asyncio.to_thread(services_sh, "start", state, timeout=240)
    try:
        if started.returncode != 0:
            pytest.fail(
                f"the platform did not start:\n{started.stderr}\n{platform.logs()}", pytrace=False
            )
        yield platform
    finally:
        await asyncio.to_thread(services_sh, "stop", state, timeout=120)
        mongo = connect_mongo(infra.mongo_url, app_name="web-tests-cleanup")
        with contextlib.suppress(Exception):
            for database in platform.databases.values():
                await mongo.drop_database(database)
        await mongo.close()


def _chromium_missing() -> bool:
    return not Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright (which cannot download a browser here)."""
    if _chromium_missing():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
async def studio(platform: WebPlatform, browser: Browser, screenshots: Path) -> WebPlatform:
    """The platform once its owner exists, created on the first-run page in the browser."""
    async with httpx.AsyncClient(base_url=platform.web) as plain:
        first = await plain.get("/login")
        assert first.status_code == 303, first.text
        assert first.headers["location"] == "/first-run"
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(platform.web + "/")
        await page.wait_for_url("**/first-run")
        await page.screenshot(path=screenshots / "first-run.png", full_page=True)
        await page.get_by_label("Owner's email").fill(OWNER_EMAIL)
        await page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
        await page.get_by_label("Password again").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Create the owner and log in").click()
        await page.wait_for_url(platform.web + "/")
        await page.get_by_role("heading", name="Today").wait_for()
    finally:
        await context.close()
    return platform


@pytest.fixture(scope="session")
async def owner(studio: WebPlatform) -> AsyncIterator[WebClient]:
    """The owner logged in to the web app (no browser): HTML in, forms out."""
    async with WebClient.open(studio.web) as client:
        await login(client, OWNER_EMAIL, OWNER_PASSWORD)
        yield client


@pytest.fixture(scope="session")
async def staff(studio: WebPlatform, owner: WebClient) -> AsyncIterator[WebClient]:
    email, password = await new_user(studio.gateway, "staff")
    async with WebClient.open(studio.web) as client:
        await login(client, email, password)
        yield client


@pytest.fixture(scope="session")
async def marketing(studio: WebPlatform, owner: WebClient) -> AsyncIterator[WebClient]:
    email, password = await new_user(studio.gateway, "marketing")
    async with WebClient.open(studio.web) as client:
        await login(client, email, password)
        yield client


@pytest.fixture
async def owner_page(studio: WebPlatform, browser: Browser) -> AsyncIterator[Page]:
    """A browser tab logged in as the owner."""
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(studio.web + "/")
        yield page
    finally:
        await context.close()
