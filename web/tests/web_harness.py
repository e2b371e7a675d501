"""Helpers of the web app's tests: a cookie-keeping client that reads the CSRF token out of
the page it got, logins, users of a role made through the gateway, HTML parsing, axe."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from playwright.async_api import Page
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from kit.testing import platform_logs

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
OWNER_EMAIL = "owner@web.studio.test"
OWNER_PASSWORD = "the web owner's long password"
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class WebPlatform:
    """The platform the web tests run against: the web app's and the gateway's URLs."""

    web: str
    gateway: str
    state: Path
    databases: dict[str, str]
    topic_prefix: str

    def logs(self, lines: int = 30) -> str:
        return platform_logs(self.state, lines)


class WebClient:
    """A browser without a browser: keeps cookies, knows the page's CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client
        self.csrf = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, base_url: str) -> AsyncIterator[WebClient]:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            yield cls(client)

    def _remember(self, answer: httpx.Response) -> None:
        if "text/html" in answer.headers.get("content-type", ""):
            token = csrf_in(answer.text)
            if token:
                self.csrf = token

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = await self.http.get(path, **kwargs)
        self._remember(answer)
        return answer

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """A form post carrying the CSRF token as the page's form would (or as htmx does)."""
        headers = kwargs.pop("headers", {})
        body = dict(data or {})
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRF-Token": self.csrf}
        else:
            body.setdefault("csrf_token", self.csrf)
        answer = await self.http.post(path, data=body, headers=headers, **kwargs)
        self._remember(answer)
        return answer


def csrf_in(html: str) -> str:
    tree = HTMLParser(html)
    node = tree.css_first('input[name="csrf_token"]')
    if node is not None and node.attributes.get("value"):
        return node.attributes["value"] or ""
    body = tree.css_first("body[hx-headers]")
    if body is not None:
        return str(json.loads(body.attributes["hx-headers"] or "{}").get("X-CSRF-Token", ""))
    return ""


def html(answer: httpx.Response) -> HTMLParser:
    assert "text/html" in answer.headers.get("content-type", ""), answer.headers
    return HTMLParser(answer.text)


def text_of(answer: httpx.Response, selector: str) -> str:
    node = html(answer).css_first(selector)
    assert node is not None, f"no {selector} in the page"
    return node.text(separator=" ", strip=True)


async def login(client: WebClient, email: str, password: str) -> None:
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    answer = await client.post("/login", {"email": email, "password": password, "next": "/"})
    assert answer.status_code == 303, answer.text
    home = await client.get(answer.headers["location"], follow_redirects=True)
    assert home.status_code == 200, home.text


async def browser_login(page: Page, web: str, next_path: str = "/") -> None:
    """The owner logs in on the login page in the browser and lands on `next_path`."""
    target = "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='')}"
    await page.goto(web + target)
    await page.get_by_label("Email").fill(OWNER_EMAIL)
    await page.get_by_label("Password").fill(OWNER_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(web + next_path)


async def gateway_token(gateway: str, email: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=gateway) as client:
        answer = await client.post("/auth/login", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


async def new_user(gateway: str, role: str) -> tuple[str, str]:
    """A person of `role`, made by the owner through the gateway."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@web.studio.test"
    password = f"{role} password {uuid.uuid4().hex}"
    token = await gateway_token(gateway, OWNER_EMAIL, OWNER_PASSWORD)
    async with httpx.AsyncClient(base_url=gateway) as client:
        made = await client.post(
            "/users",
            json={"email": email, "password": password, "role": role},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 201, made.text
    return email, password


async def serious_accessibility_problems(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it is now; axe is
    evaluated by the browser's devtools, so the page's CSP (which refuses it as a script tag)
    stays on for everything else."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
