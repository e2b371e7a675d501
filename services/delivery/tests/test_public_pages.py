"""The pages a client sees for a delivery link (the files, the PIN form, a link that no longer
works) are sent with a Content-Security-Policy that allows no script and only the page's own
style, `X-Content-Type-Options: nosniff` and frame protection (issue 14)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import httpx

HTML = {"accept": "text/html"}


def policy(answer: httpx.Response) -> dict[str, list[str]]:
    directives = [d.split() for d in answer.headers["content-security-policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def assert_protected(answer: httpx.Response) -> None:
    assert answer.headers["content-type"].startswith("text/html")
    csp = policy(answer)
    styles = re.findall(r"<style>(.*?)</style>", answer.text, re.S)
    assert styles
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in dict.fromkeys(styles)
    ]
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'none'"]
    assert csp["style-src"] == ["'self'", *hashes]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "<script" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"


async def test_the_delivery_page_the_pin_form_and_a_gone_link_send_the_security_headers(
    delivery_service: Any,
) -> None:
    async with delivery_service() as service:
        images = await service.upload("h1", 2, size=50_000)
        delivery = await service.deliver("h1", list(images))
        assert delivery["status"] == "ready"
        open_link = await service.issue(delivery["id"], name="Client")
        pin_link = await service.issue(delivery["id"], name="Guest", pin="4711")

        page = await service.http.get(service.path_of(open_link["url"]), headers=HTML)
        form = await service.http.get(service.path_of(pin_link["url"]), headers=HTML)
        wrong = await service.http.post(
            service.path_of(pin_link["url"]) + "/pin", data={"pin": "0000"}, headers=HTML
        )
        await service.http.post(f"/deliveries/{delivery['id']}/links/{open_link['id']}/revoke")
        gone = await service.http.get(service.path_of(open_link["url"]), headers=HTML)
        as_json = await service.http.get(service.path_of(open_link["url"]) + "/files/1")

    assert page.status_code == 200
    assert "Download all" in page.text
    assert form.status_code == 200
    assert "name=pin" in form.text
    assert wrong.status_code == 403
    assert gone.status_code == 410
    for answer in (page, form, wrong, gone):
        assert_protected(answer)
    assert as_json.status_code == 410
    assert as_json.headers["x-content-type-options"] == "nosniff"
