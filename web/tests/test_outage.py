"""With the gateway away, the web app says so in a readable page: 503 with Retry-After, never a
500 or a blank page; its readiness names the gateway."""

from __future__ import annotations

import socket

from pymongo import AsyncMongoClient
from web_harness import WebClient, text_of

from kit.mongo import Document
from kit.testing import build_app, running


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_login_while_the_gateway_is_away_is_a_readable_503(
    unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    app = build_app("web", database=f"t_{unique}", gateway_url=_dead_url())
    try:
        async with running(app) as http:
            client = WebClient(http)
            login_page = await client.get("/login")
            ready = await http.get("/readyz")
    finally:
        await mongo.drop_database(f"t_{unique}")

    assert login_page.status_code == 503
    assert login_page.headers["retry-after"] == "5"
    assert "cannot be reached" in text_of(login_page, "p.error")
    assert ready.status_code == 503
    assert ready.json()["detail"]["gateway"].startswith("unreachable")
    assert ready.json()["detail"]["mongodb"] == "ok"
