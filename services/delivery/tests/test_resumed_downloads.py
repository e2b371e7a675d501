"""A client whose download broke off resumes it through the same link: that is not a second
download. A file counts once per client session of the link (the page's cookie, or the
client's address for one that keeps no cookies), the download limit is charged once, and the
log shows the resumes."""

from __future__ import annotations

from typing import Any

import httpx

HTML = {"accept": "text/html"}


async def _fetch(url: str, byte_range: str | None = None) -> httpx.Response:
    """Follow a presigned URL to S3 itself, as the client's browser does after the 303."""
    async with httpx.AsyncClient(timeout=30) as s3:
        return await s3.get(url, headers={"range": byte_range} if byte_range else {})


async def test_resuming_an_interrupted_download_through_the_same_link_is_not_a_second_download(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("rs1", 2, size=300_000)
        delivery = await service.deliver("rs1", list(images))
        assert delivery["status"] == "ready"
        link = await service.issue(delivery["id"], download_limit=2)
        path = service.path_of(link["url"])
        first_name = delivery["files"][0]["name"]
        original = next(body for key, body in images.items() if key.endswith(first_name))

        page = await service.http.get(path, headers=HTML)
        assert page.status_code == 200
        assert "delivery_visit" in service.http.cookies  # the client session of the link

        # The download starts, and breaks off after 100 000 bytes.
        started = await service.http.get(path + "/files/1")
        assert started.status_code == 303
        head = await _fetch(started.headers["location"], "bytes=0-99999")
        assert head.status_code == 206
        assert head.content == original[:100_000]

        # The browser resumes through the same link, with a Range; then once more.
        resumed = await service.http.get(path + "/files/1", headers={"range": "bytes=100000-"})
        assert resumed.status_code == 303
        tail = await _fetch(resumed.headers["location"], "bytes=100000-")
        assert tail.status_code == 206
        assert head.content + tail.content == original
        again = await service.http.get(path + "/files/1", headers={"range": "bytes=200000-"})
        assert again.status_code == 303

        # One download of the limit of two is used: another file still downloads.
        links = (await service.http.get(f"/deliveries/{delivery['id']}")).json()["links"]
        assert [(x["downloads"], x["state"]) for x in links if x["id"] == link["id"]] == [
            (1, "active")
        ]
        assert (await service.http.get(path + "/files/2")).status_code == 303

        log = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        by_file = {entry["file_name"]: entry for entry in log}
        assert len(log) == 2
        assert by_file[first_name]["resumes"] == 2
        assert [r["range"] for r in by_file[first_name]["resumed"]] == [
            "bytes=100000-",
            "bytes=200000-",
        ]
        assert by_file[first_name]["last_resumed_at"] is not None
        assert by_file[delivery["files"][1]["name"]]["resumes"] == 0
        downloaded = await service.events(delivery["id"], "delivery.delivery.downloaded.v1", 2)
        assert sorted(e["data"]["file_name"] for e in downloaded) == sorted(by_file)

        # The limit is reached, and the second file's download breaks off: it still resumes.
        last = await service.http.get(path + "/files/2", headers={"range": "bytes=1000-"})
        assert last.status_code == 303

        # A new client session (another browser) would be a new download: refused.
        service.http.cookies.clear()
        assert (await service.http.get(path, headers=HTML)).status_code == 410
        refused = await service.http.get(path + "/files/1")
        assert refused.status_code == 410
        assert refused.json()["detail"] == {"reason": "exhausted"}


async def test_a_client_without_cookies_resuming_with_a_range_is_matched_by_its_address(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("rs2", 1, size=100_000)
        delivery = await service.deliver("rs2", list(images))
        link = await service.issue(delivery["id"])
        files = service.path_of(link["url"]) + "/files/1"

        # A download manager: no cookies, straight to the file, then a resume from byte 50 000.
        assert (await service.http.get(files)).status_code == 303
        assert (await service.http.get(files, headers={"range": "bytes=50000-"})).status_code == 303
        # The same client asking for the whole file again without a session is a new download.
        assert (await service.http.get(files)).status_code == 303

        log = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        assert sorted(entry["resumes"] for entry in log) == [0, 1]
        links = (await service.http.get(f"/deliveries/{delivery['id']}")).json()["links"]
        assert [x["downloads"] for x in links if x["id"] == link["id"]] == [2]
