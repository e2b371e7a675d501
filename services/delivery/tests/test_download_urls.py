"""The URLs a download hands out: short-lived, so revoking a link stops them within seconds, and
signed for the S3 address the clients reach (the public endpoint), not the service's own."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from delivery.config import DeliverySettings


async def _fetch(url: str, byte_range: str | None = None) -> httpx.Response:
    """Follow a presigned URL to S3 itself, as the client's browser does after the 303."""
    async with httpx.AsyncClient(timeout=30) as s3:
        return await s3.get(url, headers={"range": byte_range} if byte_range else {})


def _expires_at(url: str) -> float:
    """When S3 stops honouring a SigV4 presigned URL: its signing time plus its life."""
    query = parse_qs(urlsplit(url).query)
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed.timestamp() + int(query["X-Amz-Expires"][0])


def _other_name(endpoint: str) -> str:
    """The same S3 server under another host name (localhost vs 127.0.0.1)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
    assert host in ("127.0.0.1", "localhost"), f"the test S3 server is local, not {host}"
    return urlunsplit(parts._replace(netloc=f"{other}:{parts.port}"))


async def _ready_link(service: Any, session_id: str) -> tuple[dict[str, Any], bytes, str]:
    images = await service.upload(session_id, 1, size=120_000)
    delivery = await service.deliver(session_id, list(images))
    assert delivery["status"] == "ready", delivery
    link = await service.issue(delivery["id"])
    return link, next(iter(images.values())), service.path_of(link["url"])


async def test_by_default_a_handed_out_url_lives_a_minute_at_most(delivery_service: Any) -> None:
    assert DeliverySettings().presign_seconds <= 60
    async with delivery_service() as service:
        _link, original, path = await _ready_link(service, "pu0")
        before = time.time()
        answer = await service.http.get(path + "/files/1")
        assert answer.status_code == 303
        url = answer.headers["location"]
        # Signed now (to the second), honoured for a minute at most.
        life = int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])
        assert life <= 60
        assert _expires_at(url) - life >= before - 1
        assert (await _fetch(url)).content == original


async def test_a_url_handed_out_before_a_revoke_stops_working_when_its_short_life_ends(
    delivery_service: Any,
) -> None:
    async with delivery_service(presign_seconds=5) as service:
        link, original, path = await _ready_link(service, "pu1")
        answer = await service.http.get(path + "/files/1")
        assert answer.status_code == 303
        url = answer.headers["location"]
        assert (await _fetch(url)).content == original

        revoked = await service.http.post(
            f"/deliveries/{link['delivery_id']}/links/{link['id']}/revoke"
        )
        assert revoked.status_code == 200
        # The link refuses at once, a fresh URL included...
        refused = await service.http.get(path + "/files/1")
        assert refused.status_code == 410
        assert refused.json()["detail"] == {"reason": "revoked"}
        # ...and the URL handed out before works only until its life ends (the stated worst case).
        assert time.time() < _expires_at(url)
        assert (await _fetch(url, "bytes=0-9")).status_code == 206
        await asyncio.sleep(max(0.0, _expires_at(url) - time.time()) + 1.5)
        late = await _fetch(url, "bytes=10-")
        assert late.status_code == 403, late.text


async def test_urls_are_signed_for_the_public_s3_endpoint_and_work_there(
    delivery_service: Any, infra: Any
) -> None:
    public = _other_name(infra.s3_endpoint_url)
    async with delivery_service(public_s3_endpoint_url=public) as service:
        _link, original, path = await _ready_link(service, "pu2")
        answer = await service.http.get(path + "/files/1")
        assert answer.status_code == 303
        url = answer.headers["location"]
        assert urlsplit(url).netloc == urlsplit(public).netloc
        whole = await _fetch(url)
        assert whole.status_code == 200
        assert whole.content == original
        assert "attachment" in whole.headers["content-disposition"]
        part = await _fetch(url, "bytes=1000-1999")
        assert part.status_code == 206
        assert part.content == original[1000:2000]
        # The signature covers the host: the same URL sent to the internal name is refused.
        internal = urlunsplit(urlsplit(url)._replace(netloc=urlsplit(infra.s3_endpoint_url).netloc))
        assert (await _fetch(internal)).status_code == 403

        # The archive too.
        archive = await service.http.get(path + "/archives/1")
        assert urlsplit(archive.headers["location"]).netloc == urlsplit(public).netloc
        assert (await _fetch(archive.headers["location"])).status_code == 200


async def test_without_a_public_endpoint_urls_point_at_the_one_the_service_uses(
    delivery_service: Any, infra: Any
) -> None:
    async with delivery_service() as service:
        _link, original, path = await _ready_link(service, "pu3")
        answer = await service.http.get(path + "/files/1")
        assert urlsplit(answer.headers["location"]).netloc == urlsplit(infra.s3_endpoint_url).netloc
        assert (await _fetch(answer.headers["location"])).content == original
