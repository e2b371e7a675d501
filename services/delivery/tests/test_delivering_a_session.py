"""A studio delivers a session's images; the client downloads them through the link."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from typing import Any

import httpx

from kit.testing import eventually

HTML = {"accept": "text/html"}


async def test_a_client_downloads_the_zip_through_a_presigned_url_and_every_checksum_matches(
    delivery_service: Any, smtp: Any
) -> None:
    inbox, port = smtp
    async with delivery_service(smtp_host="127.0.0.1", smtp_port=port) as service:
        images = await service.upload("s1", 4)
        delivery = await service.deliver(
            "s1",
            list(images),
            title="Smith family, spring",
            recipients=[{"email": "ann@example.com", "name": "Ann"}],
        )
        assert delivery["status"] == "ready", delivery
        assert [f["name"] for f in delivery["files"]] == [k.rsplit("/", 1)[1] for k in images]
        assert [f["sha256"] for f in delivery["files"]] == [
            hashlib.sha256(b).hexdigest() for b in images.values()
        ]

        # The link reached the client by mail (sent right after the delivery turned ready), and
        # the ready event carries it for notifications.
        async def mailed() -> bool:
            return bool(inbox.messages)

        await eventually(mailed, timeout=10, what="the link's mail")
        await asyncio.sleep(0.2)  # a second mail would have come by now
        assert len(inbox.messages) == 1
        mail = inbox.messages[0]
        assert mail["To"] == "ann@example.com"
        body = mail.get_payload(decode=True).decode()
        url = next(w for w in body.split() if w.startswith("https://photos.example.com/d/"))
        ready = await service.events(delivery["id"], "delivery.delivery.ready.v1")
        assert [e["data"]["link_url"] for e in ready] == [url]
        assert ready[0]["data"]["recipient_email"] == "ann@example.com"

        page = await service.http.get(service.path_of(url), headers=HTML)
        assert page.status_code == 200
        assert "Lumen Portraits" in page.text
        assert "IMG_0003.jpg" in page.text
        assert "200.0 KB" in page.text
        assert "smith-family-spring.zip" in page.text

        answer = await service.http.get(service.path_of(url) + "/archives/1")
        assert answer.status_code == 303
        async with httpx.AsyncClient() as s3:
            archive = await s3.get(answer.headers["location"])
        assert archive.status_code == 200
        with zipfile.ZipFile(io.BytesIO(archive.content)) as unpacked:
            assert unpacked.testzip() is None
            manifest = unpacked.read("SHA256SUMS").decode().splitlines()
            for key, original in images.items():
                name = key.rsplit("/", 1)[1]
                assert unpacked.read(name) == original
                assert f"{hashlib.sha256(original).hexdigest()}  {name}" in manifest

        downloads = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        assert [(d["kind"], d["file_name"], d["bytes"]) for d in downloads] == [
            ("archive", "smith-family-spring.zip", len(archive.content))
        ]
        events = await service.events(delivery["id"], "delivery.delivery.downloaded.v1")
        downloaded = [e["data"] for e in events]
        assert downloaded[0]["file_name"] == "smith-family-spring.zip"
        assert downloaded[0]["bytes"] == len(archive.content)


async def test_an_interrupted_download_resumes_with_a_range_request(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("s2", 2, size=1_500_000)
        delivery = await service.deliver("s2", list(images))
        link = await service.issue(delivery["id"])
        original = list(images.values())[1]
        async with httpx.AsyncClient() as s3:
            first = await service.http.get(service.path_of(link["url"]) + "/files/2")
            head = await s3.get(first.headers["location"], headers={"Range": "bytes=0-599999"})
            assert head.status_code == 206
            # The connection dropped; the browser asks again and resumes where it stopped.
            again = await service.http.get(service.path_of(link["url"]) + "/files/2")
            rest = await s3.get(again.headers["location"], headers={"Range": "bytes=600000-"})
            assert rest.status_code == 206
        assert head.content + rest.content == original
        downloads = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        assert len(downloads) == 2  # each request for the file is logged


async def test_large_deliveries_are_split_into_zip_parts_under_the_size_cap(
    delivery_service: Any,
) -> None:
    async with delivery_service(archive_cap_bytes=5 * 1024 * 1024) as service:
        images = await service.upload("s3", 5, size=2_000_000)
        delivery = await service.deliver("s3", list(images), title="Big")
        assert delivery["status"] == "ready"
        parts = delivery["archives"]
        assert [a["name"] for a in parts] == [
            "big-part1of3.zip",
            "big-part2of3.zip",
            "big-part3of3.zip",
        ]
        assert all(a["bytes"] <= 5 * 1024 * 1024 for a in parts)
        link = await service.issue(delivery["id"])
        seen: dict[str, bytes] = {}
        async with httpx.AsyncClient() as s3:
            for part in parts:
                answer = await service.http.get(
                    f"{service.path_of(link['url'])}/archives/{part['index']}"
                )
                body = (await s3.get(answer.headers["location"])).content
                with zipfile.ZipFile(io.BytesIO(body)) as unpacked:
                    for name in part["files"]:
                        seen[name] = unpacked.read(name)
        assert seen == {k.rsplit("/", 1)[1]: v for k, v in images.items()}


async def test_a_missing_source_image_fails_the_delivery_and_publishes_nothing(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("s4", 3)
        missing = "sessions/s4/hires/IMG_9999.jpg"
        delivery = await service.deliver("s4", [*images, missing])
        assert delivery["status"] == "failed"
        assert missing in delivery["failure"]
        assert delivery["files"] == []
        assert delivery["archives"] == []
        assert delivery["links"] == []
        listing = await asyncio.to_thread(
            service.ctx.storage.client.list_objects_v2, Bucket=service.infra.deliveries_bucket
        )
        assert listing.get("KeyCount", 0) == 0
        uploads = await asyncio.to_thread(
            service.ctx.storage.client.list_multipart_uploads,
            Bucket=service.infra.deliveries_bucket,
        )
        assert uploads.get("Uploads", []) == []
        failed = await service.events(delivery["id"], "delivery.delivery.failed.v1")
        assert missing in failed[0]["data"]["reason"]
        # A failed delivery gets no links.
        refused = await service.http.post(f"/deliveries/{delivery['id']}/links", json={})
        assert refused.status_code == 409


async def test_concurrent_downloads_each_get_the_whole_archive(delivery_service: Any) -> None:
    async with delivery_service() as service:
        images = await service.upload("s5", 3, size=800_000)
        delivery = await service.deliver("s5", list(images))
        link = await service.issue(delivery["id"])
        path = service.path_of(link["url"]) + "/archives/1"

        async def fetch(s3: httpx.AsyncClient) -> bytes:
            answer = await service.http.get(path)
            assert answer.status_code == 303
            return (await s3.get(answer.headers["location"])).content

        async with httpx.AsyncClient() as s3:
            bodies = await asyncio.gather(*(fetch(s3) for _ in range(8)))
        assert len(set(bodies)) == 1
        with zipfile.ZipFile(io.BytesIO(bodies[0])) as unpacked:
            assert sorted(unpacked.namelist()) == sorted(
                [k.rsplit("/", 1)[1] for k in images] + ["SHA256SUMS"]
            )
        downloads = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        assert len(downloads) == 8


async def test_bad_delivery_requests_get_a_clear_4xx(delivery_service: Any) -> None:
    async with delivery_service() as service:
        foreign = await service.http.post(
            "/deliveries", json={"session_id": "s6", "keys": ["sessions/other/hires/a.jpg"]}
        )
        assert foreign.status_code == 422
        assert foreign.json()["error"] == "unprocessable"
        nothing = await service.http.post("/deliveries", json={"session_id": "s6"})
        assert nothing.status_code == 422
        empty_folder = await service.http.post(
            "/deliveries", json={"session_id": "s6", "folder": "retouched"}
        )
        assert empty_folder.status_code == 422
        bad_pin = await service.http.post(
            "/deliveries",
            json={
                "session_id": "s6",
                "keys": ["sessions/s6/hires/a.jpg"],
                "recipients": [{"pin": "12a4"}],
            },
        )
        assert bad_pin.status_code == 422
        assert bad_pin.json()["error"] == "validation_error"
        unknown = await service.http.get("/deliveries/dlv_nope")
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "not_found"
        assert (await service.http.get("/deliveries")).json() == []


async def test_a_whole_folder_of_a_session_can_be_delivered(delivery_service: Any) -> None:
    async with delivery_service() as service:
        images = await service.upload("s7", 3)
        answer = await service.http.post(
            "/deliveries", json={"session_id": "s7", "folder": "hires"}
        )
        assert answer.status_code == 202
        delivery = await service.settled(answer.json()["id"])
        assert delivery["status"] == "ready"
        assert len(delivery["files"]) == len(images)
        assert [
            d["id"]
            for d in (await service.http.get("/deliveries", params={"session_id": "s7"})).json()
        ] == [delivery["id"]]
