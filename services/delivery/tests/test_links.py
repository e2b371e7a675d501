"""Links lapse, get revoked, run out, and lock after wrong PINs; the client is told which."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery.links.service import sweep_expired

HTML = {"accept": "text/html"}


async def ready_delivery(service: Any, session_id: str) -> dict[str, Any]:
    images = await service.upload(session_id, 2, size=50_000)
    delivery: dict[str, Any] = await service.deliver(session_id, list(images))
    assert delivery["status"] == "ready"
    return delivery


async def test_an_expired_link_answers_410_is_announced_once_and_works_again_when_renewed(
    delivery_service: Any,
) -> None:
    async with delivery_service(background_work=False) as service:
        # Without the background queue, package here (the same code the queue runs).
        images = await service.upload("e1", 1, size=50_000)
        answer = await service.http.post(
            "/deliveries", json={"session_id": "e1", "keys": list(images)}
        )
        from delivery.deliveries.service import package_next

        assert (await package_next(service.ctx)) is not None
        delivery = (await service.http.get(f"/deliveries/{answer.json()['id']}")).json()
        link = await service.issue(delivery["id"], expires_in_days=1)
        path = service.path_of(link["url"])
        assert (await service.http.get(path)).status_code == 200
        assert await sweep_expired(service.ctx) == 0

        # A day passes (moved in the database: the clock is the one thing a test cannot wait for).
        await service.ctx.db["links"].update_one(
            {"_id": link["id"]}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
        )
        page = await service.http.get(path, headers=HTML)
        assert page.status_code == 410
        assert "expired" in page.text
        as_json = await service.http.get(path + "/files/1")
        assert as_json.status_code == 410
        assert as_json.json()["error"] == "link_gone"
        assert as_json.json()["detail"] == {"reason": "expired"}

        assert await sweep_expired(service.ctx) == 1
        assert await sweep_expired(service.ctx) == 0  # announced once
        events = await service.events(delivery["id"], "delivery.delivery.expired.v1")
        expired = [e["data"] for e in events]
        assert [e["link_id"] for e in expired] == [link["id"]]

        renewed = await service.http.post(
            f"/deliveries/{delivery['id']}/links/{link['id']}/renew", json={"days": 10}
        )
        assert renewed.status_code == 200
        assert renewed.json()["state"] == "active"
        assert (await service.http.get(path + "/files/1")).status_code == 303


async def test_a_revoked_link_answers_410_at_once_and_cannot_be_renewed(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        delivery = await ready_delivery(service, "r1")
        keep = await service.issue(delivery["id"], name="Client")
        guest = await service.issue(delivery["id"], name="Guest")
        revoked = await service.http.post(
            f"/deliveries/{delivery['id']}/links/{guest['id']}/revoke"
        )
        assert revoked.status_code == 200
        assert revoked.json()["state"] == "revoked"

        page = await service.http.get(service.path_of(guest["url"]), headers=HTML)
        assert page.status_code == 410
        assert "withdrawn" in page.text
        assert (
            await service.http.get(service.path_of(guest["url"]) + "/archives/1")
        ).status_code == 410
        assert (
            await service.http.get(service.path_of(keep["url"]) + "/archives/1")
        ).status_code == 303

        renew = await service.http.post(
            f"/deliveries/{delivery['id']}/links/{guest['id']}/renew", json={}
        )
        assert renew.status_code == 409
        states = {
            link["id"]: link["state"]
            for link in (await service.http.get(f"/deliveries/{delivery['id']}")).json()["links"]
        }
        assert states[keep["id"]] == "active"
        assert states[guest["id"]] == "revoked"
        unknown = await service.http.post(f"/deliveries/{delivery['id']}/links/lnk_nope/revoke")
        assert unknown.status_code == 404


async def test_a_wrong_pin_answers_403_with_attempts_left_then_the_link_locks(
    delivery_service: Any,
) -> None:
    async with delivery_service(pin_max_attempts=3) as service:
        delivery = await ready_delivery(service, "p1")
        link = await service.issue(delivery["id"], pin="4711")
        path = service.path_of(link["url"])

        form = await service.http.get(path, headers=HTML)
        assert form.status_code == 200
        assert "name=pin" in form.text
        assert "files/1" not in form.text  # nothing is shown before the PIN
        assert (await service.http.get(path + "/files/1")).json()["error"] == "pin_required"

        first = await service.http.post(path + "/pin", data={"pin": "0000"})
        assert first.status_code == 403
        assert first.json()["detail"] == {"attempts_left": 2}
        second = await service.http.post(path + "/pin", data={"pin": "1111"}, headers=HTML)
        assert second.status_code == 403
        assert "1 attempt left" in second.text
        third = await service.http.post(path + "/pin", json={"pin": "2222"})
        assert third.status_code == 403
        assert third.json()["error"] == "pin_locked"
        # Locked: even the right PIN no longer opens it.
        right = await service.http.post(path + "/pin", data={"pin": "4711"})
        assert right.status_code == 403
        assert right.json()["error"] == "pin_locked"
        states = (await service.http.get(f"/deliveries/{delivery['id']}")).json()["links"]
        assert [s["state"] for s in states if s["id"] == link["id"]] == ["locked"]


async def test_the_right_pin_opens_the_delivery_for_that_browser_only(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        delivery = await ready_delivery(service, "p2")
        link = await service.issue(delivery["id"], pin="2468")
        path = service.path_of(link["url"])
        opened = await service.http.post(path + "/pin", data={"pin": "2468"})
        assert opened.status_code == 303
        assert opened.headers["location"] == path
        page = await service.http.get(path, headers=HTML)  # the client keeps the cookie
        assert page.status_code == 200
        assert "files/1" in page.text
        assert (await service.http.get(path + "/files/1")).status_code == 303

        service.http.cookies.clear()  # another browser
        assert (await service.http.get(path + "/files/1")).status_code == 403


async def test_a_download_limit_holds_under_concurrent_downloads(delivery_service: Any) -> None:
    async with delivery_service() as service:
        delivery = await ready_delivery(service, "l1")
        link = await service.issue(delivery["id"], download_limit=3)
        path = service.path_of(link["url"]) + "/files/1"
        answers = await asyncio.gather(*(service.http.get(path) for _ in range(10)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [303] * 3 + [410] * 7
        assert {a.json()["detail"]["reason"] for a in answers if a.status_code == 410} == {
            "exhausted"
        }
        page = await service.http.get(service.path_of(link["url"]), headers=HTML)
        assert page.status_code == 410
        assert "download limit" in page.text
        downloads = (await service.http.get(f"/deliveries/{delivery['id']}/downloads")).json()
        assert len(downloads) == 3


async def test_an_unknown_token_or_file_answers_404(delivery_service: Any) -> None:
    async with delivery_service() as service:
        delivery = await ready_delivery(service, "u1")
        link = await service.issue(delivery["id"])
        assert (await service.http.get("/d/not-a-token", headers=HTML)).status_code == 404
        missing = await service.http.get(service.path_of(link["url"]) + "/files/99")
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        bad_link = await service.http.post(
            f"/deliveries/{delivery['id']}/links", json={"pin": "12"}
        )
        assert bad_link.status_code == 422
