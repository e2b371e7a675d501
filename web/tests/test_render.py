"""Render without a browser: profiles and their versions, jobs, the plan of a run, starting
it by hand and its page's progress block polling only while the run is running."""

from __future__ import annotations

import uuid

import httpx
from seeded_session import marketing_get, owner_token, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of

from kit.testing import eventually

PROOF = {
    "purpose": "proof",
    "size_kind": "pixels",
    "long_edge_px": "400",
    "fit": "contain",
    "dpi": "300",
    "format": "jpeg",
    "quality": "80",
    "watermark": "PROOF",
}


async def _profile(client: WebClient, **values: str) -> str:
    answer = await client.post("/render/profiles", {**PROOF, **values})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[-1]


async def test_render_opens_for_owner_and_staff_only(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    for client in (owner, staff):
        page = await client.get("/render")
        assert page.status_code == 200
        assert html(page).css_first("h1").text() == "Render"
    plan = await staff.get("/render/plan")
    refused = await marketing_get(studio, "/render")

    assert plan.status_code == 200
    assert refused.status_code == 403


async def test_a_profile_edit_makes_a_new_version_and_a_stale_one_is_refused(
    owner: WebClient,
) -> None:
    name = f"Proof {uuid.uuid4().hex[:6]}"
    profile_id = await _profile(owner, name=name)
    first = await owner.get(f"/render/profiles/{profile_id}")
    edited = await owner.post(
        f"/render/profiles/{profile_id}",
        {**PROOF, "name": name, "long_edge_px": "600", "base_version": "1"},
    )
    stale = await owner.post(
        f"/render/profiles/{profile_id}",
        {**PROOF, "name": name, "long_edge_px": "800", "base_version": "1"},
    )
    second = await owner.get(f"/render/profiles/{profile_id}")
    listed = await owner.get("/render")

    assert text_of(first, "#profile-version") == "1"
    assert edited.status_code == 303
    assert stale.status_code == 409
    assert html(stale).css_first("form p.error") is not None
    assert html(stale).css_first("#f-long_edge_px").attributes["value"] == "800"
    assert text_of(second, "#profile-version") == "2"
    assert html(second).css_first("#f-long_edge_px").attributes["value"] == "600"
    assert f"{name} · proof · version 2" in text_of(listed, "#profiles")


async def test_a_refused_profile_is_said_next_to_its_field_and_not_stored(
    owner: WebClient,
) -> None:
    name = f"Tiny {uuid.uuid4().hex[:6]}"
    answer = await owner.post("/render/profiles", {**PROOF, "name": name, "long_edge_px": "3"})
    listed = await owner.get("/render")

    assert answer.status_code == 422
    assert html(answer).css_first("#e-long_edge_px") is not None
    assert html(answer).css_first("#f-name").attributes["value"] == name
    assert name not in text_of(listed, "#profiles")


async def test_a_job_is_listed_and_a_job_render_refuses_is_explained(owner: WebClient) -> None:
    proof = await _profile(owner, name=f"Job proof {uuid.uuid4().hex[:6]}")
    refused = await owner.post(
        "/render/jobs",
        {
            "name": "Invoice proofs",
            "entity_kind": "invoice",
            "select_status": "Sent to Lab",
            "selection": "ordered",
            "profile_ids": [proof],
        },
    )
    made = await owner.post(
        "/render/jobs",
        {
            "name": "Proofs at presentation",
            "entity_kind": "session",
            "select_status": "Presentation Pending",
            "selection": "all",
            "folder": "hires",
            "profile_ids": [proof],
            "finish_status": "Retouch Pending",
        },
    )
    listed = await owner.get("/render")

    assert refused.status_code == 422
    assert html(refused).css_first("#jobs p.error") is not None
    assert html(refused).css_first("#j-select_status").attributes["value"] == "Sent to Lab"
    assert made.status_code == 303
    assert "Invoice proofs" not in text_of(listed, "#jobs table")
    assert "Proofs at presentation" in text_of(listed, "#jobs table")


async def test_a_plan_lists_what_a_run_renders_and_the_started_run_stops_polling_when_done(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    proof = await _profile(owner, name=f"Plan proof {uuid.uuid4().hex[:6]}")
    job = await owner.post(
        "/render/jobs",
        {
            "name": f"Plan job {uuid.uuid4().hex[:6]}",
            "entity_kind": "session",
            "select_status": "Edits Pending",
            "selection": "all",
            "folder": "hires",
            "profile_ids": [proof],
        },
    )
    assert job.status_code == 303
    form = await owner.get("/render/plan")
    job_id = html(form).css("#f-job_id option")[-1].attributes["value"]
    request = {"job_id": job_id, "entity_kind": "session", "session_id": seeded.session_id}
    planned = await owner.post("/render/plan", {**request, "action": "plan"})
    narrowed = await owner.post(
        "/render/plan", {**request, "action": "plan", "image_ids": seeded.image_ids[0]}
    )
    started = await owner.post("/render/plan", {**request, "action": "start"})

    assert planned.status_code == 200
    assert text_of(planned, "#p-result") == "The run would render 2"
    assert text_of(narrowed, "#p-result") == "The run would render 1"
    assert started.status_code == 303
    run_path = started.headers["location"]

    async def finished() -> bool:
        block = await owner.get(run_path, headers={"HX-Request": "true"})
        status = text_of(block, "#run-status")
        assert status != "failed", block.text
        return status == "completed"

    await eventually(finished, timeout=90, what="the run to finish", interval=0.5)
    done = await owner.get(run_path, headers={"HX-Request": "true"})
    tree = html(done)
    section = tree.css_first("#run-progress")
    assert section is not None
    assert "hx-trigger" not in section.attributes
    assert tree.css_first("h1") is None  # only the progress block
    assert text_of(done, "label[for='run-bar']").startswith("2 of 2 rendered")
    assert len(tree.css("#run-progress tbody tr")) == 2


async def test_an_edit_on_the_screen_keeps_what_the_form_does_not_show(
    studio: WebPlatform, owner: WebClient
) -> None:
    token = await owner_token(studio.gateway)
    async with httpx.AsyncClient(
        base_url=studio.gateway, headers={"Authorization": f"Bearer {token}"}
    ) as gw:
        made = await gw.post(
            "/api/render/profiles",
            json={
                "name": f"Lab {uuid.uuid4().hex[:6]}",
                "purpose": "final",
                "size": {"print_size": {"width_in": 8, "height_in": 10}, "fit": "cover"},
                "bleed": {"amount": 3, "unit": "mm", "fill": "mirror"},
                "sharpening": {"amount": 120},
                "format": {"kind": "jpeg", "quality": 95, "subsampling": "4:4:4"},
            },
        )
        assert made.status_code == 201, made.text
        profile = made.json()
        page = await owner.get(f"/render/profiles/{profile['id']}")
        form = {
            n.attributes["name"]: n.attributes.get("value") or ""
            for n in html(page).css("form input[name]")
            if n.attributes.get("type") != "checkbox"
        }
        for select in html(page).css("form select[name]"):
            chosen = select.css_first("option[selected]") or select.css_first("option")
            form[select.attributes["name"] or ""] = chosen.attributes.get("value") or ""
        edited = await owner.post(f"/render/profiles/{profile['id']}", {**form, "dpi": "600"})
        after = (await gw.get(f"/api/render/profiles/{profile['id']}")).json()

    assert edited.status_code == 303, edited.text
    assert after["version"] == 2
    assert after["dpi"] == 600
    assert after["size"]["print_size"] == {"width_in": 8.0, "height_in": 10.0}
    assert after["bleed"] == {"amount": 3.0, "unit": "mm", "fill": "mirror"}
    assert after["sharpening"]["amount"] == 120
    assert after["format"]["subsampling"] == "4:4:4"
