"""The seed's "single studio with lab" example, end to end, through the gateway alone.

A new client books a session online with a deposit (signed Stripe webhook); the photographer
imports the shoot; edits (crop and adjust) and the presentation (groups, ratings) follow; the
order is invoiced and paid through Stripe; after retouching, sending the invoice to the lab fires
a render job (print profile with DPI and bleed) that hands its output to delivery; the client
downloads the rendered files from the emailed link; the session is archived, its originals
deleted (previews kept) and closed. Every status change is checked against the events on Kafka,
and the rendered files are opened and measured.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image

from booking.config import BookingSettings
from booking.testing import checkout_completed, stripe_signature
from kit.settings import InfraSettings
from kit.testing import eventually, read_topic

from .conftest import OWNER_EMAIL, OWNER_PASSWORD, Platform

Json = dict[str, Any]


# The invoice's ordered images with their line crops.
ORDERED_IMAGES: Json = {"kind": "ordered"}
ORDERED_COUNT = 2
SESSION_PATH = [
    "Capture Images Pending",
    "Edits Pending",
    "Presentation Pending",
    "Retouch Pending",
    "Upload Pending",
    "Production Pending",
    "Delivery Pending",
    "Archive Pending",
    "Delete Images Pending",
    "Session Closed",
]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def next_monday_at(hour: int) -> datetime:
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=14 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=UTC)


async def pay_through_stripe(client: httpx.AsyncClient, payment_id: str) -> None:
    """Stripe's webhook for a paid checkout, signed with the booking service's secret."""
    body = checkout_completed(payment_id)
    headers = stripe_signature(body, BookingSettings().secret("stripe_webhook_secret"))
    answer = ok(await client.post("/public/payments/stripe-webhook", content=body, headers=headers))
    assert answer["outcome"] == "applied", answer


def photo(seed: int, size: tuple[int, int] = (1800, 1200)) -> bytes:
    """A JPEG with some structure (gradients and a seeded block pattern)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    tiles = Image.effect_noise((size[0] // 40, size[1] // 40), 40 + seed).resize(size)
    image = Image.merge("RGB", (image.getchannel(0), tiles, image.getchannel(0).rotate(180)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_the_seed_workflow_end_to_end_through_the_gateway(
    platform: Platform, front_door: httpx.AsyncClient, infra: InfraSettings
) -> None:
    gw = front_door
    owner = ok(
        await gw.post("/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    )
    staff_email = "sam@e2e.studio.test"
    ok(
        await gw.post(
            "/users",
            json={"email": staff_email, "password": "sam's long password", "role": "staff"},
            headers=bearer(owner["access_token"]),
        ),
        201,
    )
    staff = ok(
        await gw.post("/auth/login", json={"email": staff_email, "password": "sam's long password"})
    )
    gw.headers.update(bearer(staff["access_token"]))
    booking = "/api/booking"
    workflow = "/api/workflow/workflow"
    render = "/api/render"
    delivery = "/api/delivery"

    # --- The studio: a room, its hours, an online session type with a deposit.
    room = ok(await gw.post(f"{booking}/resources", json={"name": "Studio A", "kind": "room"}), 201)
    ok(
        await gw.post(
            f"{booking}/opening-hours",
            json={
                "resource_ids": [room["id"]],
                "weekdays": [0, 1, 2, 3, 4],
                "opens": "09:00",
                "closes": "17:00",
                "valid_from": "2026-01-01",
            },
        ),
        201,
    )
    session_type = ok(
        await gw.post(
            f"{booking}/session-types",
            json={
                "name": "Family portrait",
                "duration_minutes": 60,
                "deposit_minor": 5000,
                "bookable_online": True,
                "online_description": "An hour in the studio",
                "resource_ids": [room["id"]],
            },
        ),
        201,
    )

    # --- A new client books online (public route, no login) and pays the deposit.
    starts_at = next_monday_at(10)
    public = httpx.AsyncClient(base_url=platform.gateway, timeout=60)
    async with public:
        free = ok(
            await public.get(
                f"/public/session-types/{session_type['id']}/availability",
                params={
                    "start": starts_at.isoformat(),
                    "end": (starts_at + timedelta(hours=2)).isoformat(),
                },
            )
        )
        assert free, "the studio offers no start on that Monday"
        held = ok(
            await public.post(
                "/public/bookings",
                json={
                    "session_type_id": session_type["id"],
                    "starts_at": starts_at.isoformat(),
                    "client": {
                        "email": "ann.lee@example.com",
                        "first_name": "Ann",
                        "last_name": "Lee",
                    },
                },
            ),
            201,
        )
        assert held["state"] == "held"
        await pay_through_stripe(public, held["deposit"]["payment_id"])
    session_id = held["session_id"]
    session = ok(await gw.get(f"{booking}/sessions/{session_id}"))
    assert session["state"] == "booked"

    # --- Workflow learns of the session from booking's event.
    async def workflow_has_session() -> bool:
        return (await gw.get(f"{workflow}/sessions/{session_id}")).status_code == 200

    await eventually(workflow_has_session, timeout=30, what="the session in workflow")
    record = ok(await gw.get(f"{workflow}/sessions/{session_id}"))
    assert record["status"]["name"] == "Session Pending"
    assert record["session_number"] == session["number"]

    async def advance(path: str, to_status_id: str | None = None) -> str:
        body = {"to_status_id": to_status_id} if to_status_id else {}
        changed = ok(await gw.post(f"{workflow}/{path}/status", json=body))
        name: str = changed["status"]["name"]
        return name

    session_path = f"sessions/{session_id}"
    assert await advance(session_path) == "Capture Images Pending"

    # --- The shoot is imported: four frames, numbered from their names.
    frames = {f"{n:03d}-{session['number']}.jpg": photo(n) for n in range(1, 5)}
    report = ok(
        await gw.post(
            f"{workflow}/{session_path}/imports",
            files=[("files", (name, data, "image/jpeg")) for name, data in frames.items()],
            data={
                "options": json.dumps(
                    {"number_rule": "first", "number_n": 3, "keywords": ["family"]}
                )
            },
        ),
        201,
    )
    assert report["stored"] == 4, report
    assert report["rejected"] == 0, report
    assert sorted(f["number"] for f in report["files"]) == [1, 2, 3, 4]
    images = {f["number"]: f["image_id"] for f in report["files"]}

    async def previews_attached() -> bool:
        listed = ok(await gw.get(f"{workflow}/{session_path}/images"))
        return len(listed) == 4 and all(i["preview"] for i in listed)

    await eventually(previews_attached, timeout=60, what="previews from the render service")
    assert await advance(session_path) == "Edits Pending"

    # --- Edits: a crop and adjustments on the first two frames (non-destructive recipes).
    for number in (1, 2):
        ok(
            await gw.put(
                f"{workflow}/images/{images[number]}/recipe",
                json={
                    "crops": [
                        {
                            "name": "8x10",
                            "aspect_ratio": "free",
                            "rect": {"x": 0.1, "y": 0.05, "width": 0.8, "height": 0.9},
                        }
                    ],
                    "adjustments": {"exposure": 0.3, "contrast": 10, "saturation": -5},
                },
            )
        )
    assert await advance(session_path) == "Presentation Pending"

    # --- Presentation: a group, ratings.
    ok(
        await gw.post(
            f"{workflow}/{session_path}/groups",
            json={"name": "Favourites", "image_ids": [images[1], images[2]]},
        ),
        201,
    )
    for number, (selection, stars) in {
        1: ("selected", 5),
        2: ("selected", 4),
        3: ("not_selected", 1),
    }.items():
        ok(
            await gw.put(
                f"{workflow}/images/{images[number]}/rating",
                json={"selection": selection, "stars": stars},
            )
        )

    # --- The order: an 8x10 print of frames 1 and 2, invoiced and paid through Stripe.
    price_list = ok(
        await gw.post(
            f"{workflow}/price-lists",
            json={
                "name": "2026",
                "currency": "USD",
                "products": [
                    {
                        "name": "8x10 print",
                        "price_minor": 4500,
                        "kind": "physical",
                        "vendor": "Lab One",
                    }
                ],
            },
        ),
        201,
    )
    print_product = price_list["products"][0]
    invoice = ok(
        await gw.post(
            f"{workflow}/invoices",
            json={
                "client_id": record["client_id"],
                "session_id": session_id,
                "price_list_id": price_list["id"],
                "lines": [
                    {
                        "product_id": print_product["id"],
                        "image_ids": [images[number]],
                        "quantity": 1,
                        "crop": {"x": 0.1, "y": 0.05, "width": 0.8, "height": 0.9},
                    }
                    for number in (1, 2)
                ],
            },
        ),
        201,
    )
    invoice_path = f"invoices/{invoice['invoice_id']}"
    assert invoice["status"]["name"] == "Order Entered"
    assert await advance(session_path) == "Retouch Pending"

    async def booking_knows_the_invoice() -> bool:
        answer = await gw.post(f"{booking}/payments", json={"invoice_id": invoice["invoice_id"]})
        if answer.status_code == 201:
            booking_knows_the_invoice.payment = answer.json()  # type: ignore[attr-defined]
            return True
        assert answer.status_code == 422, answer.text  # not yet announced to booking
        return False

    await eventually(
        booking_knows_the_invoice, timeout=30, what="booking to learn of the invoice", interval=0.5
    )
    invoice_payment: Json = booking_knows_the_invoice.payment  # type: ignore[attr-defined]
    # The session's 50.00 deposit counts toward its invoice: the client is asked for the rest.
    assert invoice_payment["amount_minor"] == 9000 - 5000
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=60) as stripe:
        await pay_through_stripe(stripe, invoice_payment["id"])

    async def invoice_paid() -> bool:
        return bool(ok(await gw.get(f"{workflow}/{invoice_path}"))["status"]["name"] == "Paid")

    await eventually(invoice_paid, timeout=30, what="the invoice to be paid")

    # --- Retouching: frame 1 gets a retouched version, which the lab render must use.
    ok(
        await gw.put(
            f"{workflow}/images/{images[1]}/retouched",
            files={"file": ("retouched.jpg", photo(11), "image/jpeg")},
        )
    )
    assert await advance(session_path) == "Upload Pending"
    assert await advance(session_path) == "Production Pending"

    # --- The lab's render job: 8x10 at 300 DPI with 3 mm bleed, handed to delivery.
    profile = ok(
        await gw.post(
            f"{render}/profiles",
            json={
                "name": "Lab 8x10",
                "purpose": "final",
                "product": "8x10",
                "size": {"print_size": {"width_in": 8, "height_in": 10}, "fit": "cover"},
                "dpi": 300,
                "bleed": {"amount": 3, "unit": "mm", "fill": "mirror"},
                "format": {"kind": "jpeg", "quality": 95},
                "deliver": True,
                "link_expiry_days": 30,
            },
        ),
        201,
    )
    job = ok(
        await gw.post(
            f"{render}/jobs",
            json={
                "name": "Send prints to the lab",
                "entity_kind": "invoice",
                "select_status": "Sent to Lab",
                "profile_ids": [profile["id"]],
                "images": ORDERED_IMAGES,
                "finish_status": "Received from Lab",
                "error_status": "Paid",
            },
        ),
        201,
    )
    # What the job would render for this invoice: its two ordered frames with the line crop,
    # frame 1 from its retouched version; a selection can be narrowed before a run starts.
    by_hand = {
        "job_id": job["id"],
        "entity_kind": "invoice",
        "entity_id": invoice["invoice_id"],
        "session_id": session_id,
    }
    plan = ok(await gw.post(f"{render}/runs/plan", json=by_hand))
    assert plan["problem"] is None
    assert sorted(r["image_id"] for r in plan["renders"]) == sorted([images[1], images[2]])
    assert {r["product"] for r in plan["renders"]} == {"8x10 print"}
    from_retouched = next(r for r in plan["renders"] if r["image_id"] == images[1])
    assert "/retouched/" in from_retouched["key"]
    narrowed = ok(await gw.post(f"{render}/runs/plan", json={**by_hand, "image_ids": [images[2]]}))
    assert [r["image_id"] for r in narrowed["renders"]] == [images[2]]
    assert await advance(invoice_path) == "Sent to Lab"

    async def invoice_back_from_lab() -> bool:
        name = ok(await gw.get(f"{workflow}/{invoice_path}"))["status"]["name"]
        assert name != "Paid", "the render run failed: " + json.dumps(
            ok(await gw.get(f"{render}/runs", params={"session_id": session_id}))
        )
        return bool(name == "Received from Lab")

    await eventually(
        invoice_back_from_lab, timeout=120, what="the render run to finish", interval=0.5
    )
    runs = ok(await gw.get(f"{render}/runs", params={"session_id": session_id}))
    assert [r["status"] for r in runs] == ["completed"], runs
    assert runs[0]["done"] == runs[0]["total"] == ORDERED_COUNT

    # --- Delivery: the run's files are packaged; the client gets a link by email.
    async def delivery_ready() -> bool:
        listed = ok(await gw.get(f"{delivery}/deliveries", params={"session_id": session_id}))
        assert not listed or listed[0]["status"] != "failed", listed
        return bool(listed) and listed[0]["status"] == "ready"

    await eventually(delivery_ready, timeout=60, what="the delivery to be ready", interval=0.5)
    package = ok(await gw.get(f"{delivery}/deliveries", params={"session_id": session_id}))[0]
    ok(
        await gw.post(
            f"{delivery}/deliveries/{package['id']}/links",
            json={"email": "ann.lee@example.com", "name": "Ann Lee"},
        ),
        201,
    )

    async def emailed() -> bool:
        return any(m["To"] == "ann.lee@example.com" for m in platform.inbox.messages)

    await eventually(emailed, timeout=30, what="the link email")
    mail = next(m for m in platform.inbox.messages if m["To"] == "ann.lee@example.com")
    body = mail.get_body(preferencelist=("plain", "html"))
    assert body is not None, mail
    text = body.get_content()
    link = re.search(r"https?://\S+/d/[A-Za-z0-9_-]+", text)
    assert link, text
    token_path = httpx.URL(link.group(0)).path

    async with httpx.AsyncClient(base_url=platform.gateway, timeout=60) as client_browser:
        page = await client_browser.get(token_path)
        assert page.status_code == 200, page.text
        assert "Lakeside Portraits" in page.text
        links = re.findall(r'href="(/d/[^"]+/(?:files|archives)/\d+)"', page.text)
        rendered = []
        archives = []
        for href in links:
            redirect = await client_browser.get(href)
            assert redirect.status_code == 303, redirect.text
            download = await client_browser.get(redirect.headers["location"])
            assert download.status_code == 200
            if "/archives/" in href:
                archives.append(zipfile.ZipFile(io.BytesIO(download.content)))
            else:
                rendered.append(Image.open(io.BytesIO(download.content)))
    assert len(archives) == 1
    zipped = [n for n in archives[0].namelist() if n.endswith(".jpg")]
    assert sorted(zipped) == sorted(f["name"] for f in package["files"])
    bleed_px = round(3 / 25.4 * 300)
    for image in rendered:
        assert image.format == "JPEG"
        assert image.info["dpi"] == (300, 300)
        assert sorted(image.size) == [8 * 300 + 2 * bleed_px, 10 * 300 + 2 * bleed_px]
    assert len(rendered) == ORDERED_COUNT

    # --- Delivered, archived, originals deleted (previews stay), closed.
    assert await advance(session_path) == "Delivery Pending"
    assert await advance(session_path) == "Archive Pending"
    archive = ok(await gw.post(f"{workflow}/{session_path}/archive"), 201)
    assert archive["verified"], archive
    assert await advance(session_path) == "Delete Images Pending"
    deletion = ok(await gw.post(f"{workflow}/{session_path}/image-deletions", json={}), 201)
    deleted = ok(
        await gw.post(
            f"{workflow}/{session_path}/image-deletions/{deletion['confirmation_token']}/confirm"
        )
    )
    assert len([k for k in deleted["deleted_keys"] if "/hires/" in k]) == 4
    assert not [k for k in deleted["deleted_keys"] if "/previews/" in k]
    left = ok(await gw.get(f"{workflow}/{session_path}/images"))
    assert all(i["preview"] for i in left)
    assert await advance(session_path) == "Session Closed"

    # --- Every status change was announced on Kafka, in order.
    session_history = ok(await gw.get(f"{workflow}/{session_path}/history"))["history"]
    invoice_history = ok(await gw.get(f"{workflow}/{invoice_path}/history"))
    history = {
        session_path: [h["to_status_name"] for h in session_history],
        invoice_path: [h["to_status_name"] for h in invoice_history],
    }
    records = await read_topic(
        infra.kafka_bootstrap, f"{platform.topic_prefix}workflow.events", 100_000, timeout=10
    )
    announced: dict[str, list[str]] = {session_path: [], invoice_path: []}
    for record in records:
        event = json.loads(record.value or b"{}")
        if event["type"].endswith(".status_changed.v1"):
            kind = "sessions" if event["data"]["entity_kind"] == "session" else "invoices"
            announced.setdefault(f"{kind}/{event['data']['entity_id']}", []).append(
                event["data"]["to_status_name"]
            )
    assert history[session_path] == ["Session Pending", *SESSION_PATH]
    assert history[invoice_path] == ["Order Entered", "Paid", "Sent to Lab", "Received from Lab"]
    assert announced[session_path] == history[session_path]
    assert announced[invoice_path] == history[invoice_path]
