"""The studio sees a delivery's link URL in the answer that asks for the delivery (not only in
an email), and a link can expire in hours, not only in whole days."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

HTML = {"accept": "text/html"}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _close(value: str, expected: datetime, *, within: timedelta = timedelta(minutes=2)) -> bool:
    return abs(_at(value) - expected) <= within


async def test_the_studio_sees_the_link_url_when_it_creates_a_delivery_that_expires_in_hours(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("h1", 2, size=40_000)
        answer = await service.http.post(
            "/deliveries",
            json={
                "session_id": "h1",
                "keys": list(images),
                "recipients": [
                    {"name": "Ana", "expires_in_hours": 2},
                    {"email": "ben@example.com", "pin": "1234", "download_limit": 3},
                ],
            },
        )
        assert answer.status_code == 202, answer.text
        made = answer.json()
        promised = made["issued_links"]
        assert [p["recipient_name"] for p in promised] == ["Ana", None]
        assert promised[0]["url"].startswith("https://photos.example.com/d/")
        assert promised[0]["lifetime_hours"] == 2
        assert promised[1]["lifetime_hours"] == 30 * 24  # the studio's default, 30 days
        assert promised[1]["pin_required"] is True
        assert promised[1]["download_limit"] == 3
        assert promised[0]["url"] != promised[1]["url"]

        delivery = await service.settled(made["id"])
        assert delivery["status"] == "ready"
        assert delivery["issued_links"] == []  # shown once: never read back
        links = {link["id"]: link for link in delivery["links"]}
        assert set(links) == {p["id"] for p in promised}
        ready_at = _at(delivery["ready_at"])
        assert _close(links[promised[0]["id"]]["expires_at"], ready_at + timedelta(hours=2))
        assert _close(links[promised[1]["id"]]["expires_at"], ready_at + timedelta(days=30))

        # The URL shown at creation is the link: it opens the delivery.
        page = await service.http.get(service.path_of(promised[0]["url"]), headers=HTML)
        assert page.status_code == 200
        assert "files/1" in page.text
        pin_form = await service.http.get(service.path_of(promised[1]["url"]), headers=HTML)
        assert pin_form.status_code == 200
        assert "name=pin" in pin_form.text
        # The ready event carries the same URL.
        ready = await service.events(made["id"], "delivery.delivery.ready.v1", 2)
        assert sorted(e["data"]["link_url"] for e in ready) == sorted(p["url"] for p in promised)

        # A further link, and a renewal, in hours too; days and hours at once are refused.
        guest = await service.issue(delivery["id"], name="Guest", expires_in_hours=1)
        now = datetime.now(_at(delivery["ready_at"]).tzinfo)
        assert _close(guest["expires_at"], now + timedelta(hours=1))
        renewed = await service.http.post(
            f"/deliveries/{delivery['id']}/links/{guest['id']}/renew", json={"hours": 5}
        )
        assert renewed.status_code == 200
        assert _close(renewed.json()["expires_at"], now + timedelta(hours=5))
        both = await service.http.post(
            f"/deliveries/{delivery['id']}/links",
            json={"expires_in_days": 1, "expires_in_hours": 3},
        )
        assert both.status_code == 422
        assert "not both" in both.text
        zero = await service.http.post(
            f"/deliveries/{delivery['id']}/links", json={"expires_in_hours": 0}
        )
        assert zero.status_code == 422
