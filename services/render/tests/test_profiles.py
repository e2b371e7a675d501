"""Render profiles: versioned data; every edit is a new version and old versions stay readable."""

from __future__ import annotations

from typing import Any

PRINT = {
    "name": "8x10 print",
    "purpose": "final",
    "product": "8x10",
    "size": {"print_size": {"width_in": 8, "height_in": 10}, "fit": "cover"},
    "dpi": 300,
    "bleed": {"amount": 3, "unit": "mm", "fill": "mirror"},
    "format": {"kind": "jpeg", "quality": 95, "subsampling": "4:4:4"},
    "naming": "{session}_{image}_{size}",
}


async def test_a_studio_creates_a_print_profile_and_reads_it_back(
    render_service: Any,
) -> None:
    async with render_service() as service:
        created = await service.profile(**PRINT)
        assert created["version"] == 1
        read = (await service.http.get(f"/profiles/{created['id']}")).json()
        assert read == created
        assert read["bleed"] == {"amount": 3.0, "unit": "mm", "fill": "mirror"}
        listed = (await service.http.get("/profiles")).json()
        assert [p["id"] for p in listed] == [created["id"]]


async def test_editing_a_profile_makes_a_new_version_and_keeps_the_old_one(
    render_service: Any,
) -> None:
    async with render_service() as service:
        created = await service.profile(**PRINT)
        path = f"/profiles/{created['id']}"
        edited = await service.http.put(path, json={**PRINT, "dpi": 240})
        assert edited.status_code == 200, edited.text
        assert edited.json()["version"] == 2
        assert edited.json()["dpi"] == 240
        again = await service.http.put(path, json={**PRINT, "dpi": 240})
        assert again.json()["version"] == 2  # nothing changed: no new version
        first = (await service.http.get(f"{path}/versions/1")).json()
        assert first["dpi"] == 300
        assert first["version"] == 1
        missing = await service.http.get(f"{path}/versions/7")
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"


async def test_an_edit_based_on_a_stale_version_is_refused(
    render_service: Any,
) -> None:
    async with render_service() as service:
        created = await service.profile(**PRINT)
        path = f"/profiles/{created['id']}"
        assert (await service.http.put(path, json={**PRINT, "dpi": 200})).status_code == 200
        stale = await service.http.put(path, params={"base_version": 1}, json={**PRINT, "dpi": 150})
        assert stale.status_code == 409
        assert stale.json()["detail"]["version"] == 2
        assert (await service.http.get(path)).json()["dpi"] == 200


async def test_invalid_profiles_are_refused_and_nothing_is_stored(
    render_service: Any,
) -> None:
    bad: list[dict[str, Any]] = [
        {**PRINT, "size": {"long_edge_px": 2048, "print_size": {"width_in": 8, "height_in": 10}}},
        {**PRINT, "size": {}},
        {**PRINT, "purpose": "draft"},
        {**PRINT, "naming": "{session}_{camera}"},
        {**PRINT, "naming": "../{image}"},
        {**PRINT, "format": {"kind": "gif"}},
        {**PRINT, "format": {"kind": "jpeg", "quality": 101}},
        {**PRINT, "bleed": {"amount": -1, "unit": "in"}},
        {**PRINT, "watermark": {"text": "", "opacity": 0.5}},
        {**PRINT, "watermark": {"text": "PROOF", "opacity": 1.5}},
        {**PRINT, "sharpening": {"amount": 0}},
    ]
    async with render_service() as service:
        for body in bad:
            answer = await service.http.post("/profiles", json=body)
            assert answer.status_code == 422, body
            assert answer.json()["error"] == "validation_error"
        assert (await service.http.get("/profiles")).json() == []
        assert (await service.http.get("/profiles/prf_nothing")).status_code == 404
