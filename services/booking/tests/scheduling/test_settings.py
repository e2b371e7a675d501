"""What a calendar needs to draw opening hours (the studio's time zone and the granule), and
the studio's own settings the owner changes: name, phone, currency, the link cut-off and the
deposit policy."""

from __future__ import annotations

from typing import Any

import httpx

OWNER = {"X-User-Id": "owner-1", "X-User-Role": "owner"}


def studio_settings(**changes: Any) -> dict[str, Any]:
    return {
        "studio_name": "Lee Portraits",
        "studio_phone": "+1 312 555 0100",
        "currency": "EUR",
        "change_cutoff_hours": 48,
        "deposit_policy": {"kind": "refund_before", "days": 7},
        "version": 0,
        **changes,
    }


async def test_the_scheduling_settings_name_the_studios_time_zone(
    booking: httpx.AsyncClient,
) -> None:
    answer = await booking.get("/scheduling-settings")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["timezone"], body["granule_minutes"]) == ("America/Chicago", 5)
    # The defaults until the owner saves settings.
    assert body["change_cutoff_hours"] == 24
    assert body["deposit_policy"] == {"kind": "keep", "days": None}
    assert (body["currency"], body["version"]) == ("usd", 0)


async def test_the_owner_changes_the_studio_settings_and_a_stale_version_is_refused(
    booking: httpx.AsyncClient,
) -> None:
    saved = await booking.put("/scheduling-settings", json=studio_settings(), headers=OWNER)
    assert saved.status_code == 200, saved.text
    read = (await booking.get("/scheduling-settings")).json()
    assert read["studio_name"] == "Lee Portraits"
    assert read["currency"] == "eur"
    assert read["change_cutoff_hours"] == 48
    assert read["deposit_policy"] == {"kind": "refund_before", "days": 7}
    assert (read["version"], read["updated_by"]) == (1, "owner-1")

    stale = await booking.put(
        "/scheduling-settings", json=studio_settings(studio_name="Other"), headers=OWNER
    )
    assert stale.status_code == 409
    assert stale.json()["detail"]["version"] == 1
    again = await booking.put(
        "/scheduling-settings",
        json=studio_settings(studio_name="Lee & Co", version=1, deposit_policy={"kind": "refund"}),
        headers=OWNER,
    )
    assert again.status_code == 200, again.text
    assert (again.json()["studio_name"], again.json()["version"]) == ("Lee & Co", 2)


async def test_studio_settings_are_validated_and_only_the_owner_changes_them(
    booking: httpx.AsyncClient,
) -> None:
    staff = await booking.put(
        "/scheduling-settings",
        json=studio_settings(),
        headers={"X-User-Id": "s", "X-User-Role": "staff"},
    )
    assert staff.status_code == 403
    nobody = await booking.put("/scheduling-settings", json=studio_settings())
    assert nobody.status_code == 403
    for bad in (
        {"currency": "EURO"},
        {"change_cutoff_hours": -1},
        {"deposit_policy": {"kind": "refund_before"}},
        {"deposit_policy": {"kind": "keep", "days": 3}},
        {"deposit_policy": {"kind": "sometimes"}},
        {"studio_name": ""},
        {"timezone": "Europe/Paris"},
    ):
        answer = await booking.put(
            "/scheduling-settings", json=studio_settings(**bad), headers=OWNER
        )
        assert answer.status_code == 422, (bad, answer.text)
    assert (await booking.get("/scheduling-settings")).json()["version"] == 0
