"""A booked session with imported images, made through the gateway API as the owner: the data
the Orders, Render and Deliveries tests need but are not about."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebClient, WebPlatform, gateway_token, new_user

BOOKING = "/api/booking"
WORKFLOW = "/api/workflow/workflow"


@dataclass
class SeededSession:
    session_id: str
    number: str
    client_id: str
    image_ids: list[str]
    token: str


def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.request.url}: {answer.status_code} {answer.text}"
    return answer.json() if answer.content else None


def photo(seed: int, size: tuple[int, int] = (900, 600)) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    tiles = Image.effect_noise((size[0] // 30, size[1] // 30), 40 + seed).resize(size)
    image = Image.merge("RGB", (image.getchannel(0), tiles, image.getchannel(0).rotate(180)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


_tokens: dict[str, str] = {}
_marketing: dict[str, tuple[str, str]] = {}


async def owner_token(gateway: str) -> str:
    """The owner's access token, one login per test run (the gateway limits logins)."""
    if gateway not in _tokens:
        _tokens[gateway] = await gateway_token(gateway, OWNER_EMAIL, OWNER_PASSWORD)
    return _tokens[gateway]


async def seeded_session(gateway: str, images: int = 2) -> SeededSession:
    """A client, a session booked for them and `images` JPEGs imported into it."""
    token = await owner_token(gateway)
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(
        base_url=gateway, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as gw:
        room = _ok(
            await gw.post(f"{BOOKING}/resources", json={"name": f"Room {tag}", "kind": "room"}), 201
        )
        kind = _ok(
            await gw.post(
                f"{BOOKING}/session-types",
                json={
                    "name": f"Portrait {tag}",
                    "duration_minutes": 30,
                    "resource_ids": [room["id"]],
                },
            ),
            201,
        )
        client = _ok(
            await gw.post(
                f"{BOOKING}/clients",
                json={
                    "first_name": "Ann",
                    "last_name": f"Lee {tag}",
                    "email": f"ann-{tag}@example.com",
                },
            ),
            201,
        )
        starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
            days=3, hours=len(tag) % 5
        )
        session = _ok(
            await gw.post(
                f"{BOOKING}/sessions",
                json={
                    "client_id": client["id"],
                    "session_type_id": kind["id"],
                    "starts_at": starts.isoformat(),
                    "resource_ids": [room["id"]],
                    "outside_hours": True,
                },
            ),
            201,
        )
        # Workflow learns of the session from booking's event: seconds, more on a busy machine.
        for _ in range(480):
            if (await gw.get(f"{WORKFLOW}/sessions/{session['id']}")).status_code == 200:
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(f"workflow never learnt of session {session['id']}")
        report = _ok(
            await gw.post(
                f"{WORKFLOW}/sessions/{session['id']}/imports",
                files=[
                    ("files", (f"{n:03d}.jpg", photo(n), "image/jpeg"))
                    for n in range(1, images + 1)
                ],
                data={"options": json.dumps({"number_rule": "first", "number_n": 3})},
            ),
            201,
        )
        assert report["stored"] == images, report
    return SeededSession(
        session_id=session["id"],
        number=session["number"],
        client_id=client["id"],
        image_ids=[f["image_id"] for f in sorted(report["files"], key=lambda f: f["number"])],
        token=token,
    )


async def marketing_get(studio: WebPlatform, path: str) -> httpx.Response:
    """`path` as a marketing user sees it. (The shared `marketing` fixture follows the landing
    redirect, which fails while no screen of this checkout is for marketing.)"""
    if studio.gateway not in _marketing:
        _marketing[studio.gateway] = await new_user(studio.gateway, "marketing")
    email, password = _marketing[studio.gateway]
    async with WebClient.open(studio.web) as client:
        await client.get("/login")
        answer = await client.post("/login", {"email": email, "password": password, "next": "/"})
        assert answer.status_code == 303, answer.text
        return await client.get(path)
