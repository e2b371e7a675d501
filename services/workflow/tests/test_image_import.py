"""A photographer imports a shoot into a session: each file stored, skipped or rejected."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
from image_factory import booked_session, decompression_bomb, picture
from workflow_harness import Workflow

from kit.events.contracts.render import ImageFailure, PreviewRef, PreviewsCreated

Files = list[tuple[str, bytes]]


async def import_files(workflow: Workflow, session_id: str, files: Files, **options: Any) -> Any:
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
        data={"options": json.dumps(options)} if options else None,
        headers={"X-User-Id": "ann"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def stored(workflow: Workflow, key: str) -> bytes | None:
    storage = workflow.context.storage
    bucket = workflow.context.settings.infra.images_bucket
    if not await storage.exists(bucket, key):
        return None
    return await storage.get_bytes(bucket, key)


async def test_a_shoot_of_jpeg_png_tiff_and_raw_lands_in_its_folders_and_is_announced(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"imp-{unique}")
    files = [
        ("IMG_0001.jpg", picture("JPEG", shade=1)),
        ("IMG_0001.CR3", b"raw sensor data" * 300),
        ("IMG_0002.png", picture("PNG", shade=2)),
        ("IMG_0003.tif", picture("TIFF", shade=3)),
    ]
    report = await import_files(workflow, session_id, files, keywords=["wedding"])
    assert [f["outcome"] for f in report["files"]] == ["stored"] * 4
    assert report["stored"] == 4
    assert report["bytes_stored"] == sum(len(b) for _, b in files)
    by_name = {f["original_name"]: f for f in report["files"]}
    assert by_name["IMG_0001.jpg"]["stored_as"] == [f"sessions/{session_id}/hires/IMG_0001.jpg"]
    assert by_name["IMG_0001.CR3"]["stored_as"] == [f"sessions/{session_id}/raw/IMG_0001.CR3"]
    for name, body in files:
        file = by_name[name]
        assert file["sha256"] == hashlib.sha256(body).hexdigest()
        assert file["size"] == len(body)
        assert await stored(workflow, file["stored_as"][0]) == body
    assert by_name["IMG_0002.png"]["number"] == 2

    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert {i["original_name"] for i in images} == {n for n, _ in files}
    jpeg = next(i for i in images if i["original_name"] == "IMG_0001.jpg")
    assert (jpeg["width"], jpeg["height"], jpeg["kind"]) == (64, 48, "image")
    assert jpeg["keywords"] == ["wedding"]
    raw = next(i for i in images if i["original_name"] == "IMG_0001.CR3")
    assert raw["kind"] == "raw"
    assert raw["width"] is None

    about = await workflow.workflow_events(session_id, 2)
    [event] = [e for e in about if e.type == "workflow.images.imported.v1"]
    refs = {r["image_id"]: r for r in event.data["images"]}
    assert set(refs) == {f["image_id"] for f in report["files"]}
    assert refs[jpeg["image_id"]]["folder"] == "hires"
    assert refs[raw["image_id"]]["key"] == f"sessions/{session_id}/raw/IMG_0001.CR3"
    again = await workflow.client.get(f"/workflow/imports/{report['import_id']}")
    assert again.json()["files"] == report["files"]


async def test_bad_files_are_rejected_with_their_reason_while_the_rest_is_stored(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"bad-{unique}")
    good = picture("JPEG", size=(400, 300), shade=9)
    files = [
        ("truncated.jpg", good[: len(good) // 2]),
        ("corrupt.jpg", b"\xff\xd8\xff\xe0 definitely not a jpeg" * 20),
        ("bomb.png", decompression_bomb()),
        ("anim.gif", b"GIF89a" + b"\x00" * 100),
        ("../escape.jpg", picture("JPEG", shade=10)),
        ("png-named.jpg", picture("PNG", shade=11)),
        ("empty.jpg", b""),
        ("good.jpg", good),
    ]
    report = await import_files(workflow, session_id, files)
    outcome = {f["original_name"]: f for f in report["files"]}
    assert outcome["good.jpg"]["outcome"] == "stored"
    assert report["stored"] == 1
    assert report["rejected"] == len(files) - 1
    reasons = {name: (f["reason"] or "") for name, f in outcome.items()}
    assert "truncated" in reasons["truncated.jpg"]
    assert "JPEG" in reasons["corrupt.jpg"]
    assert "decompression bomb" in reasons["bomb.png"]
    assert "unknown file type" in reasons["anim.gif"]
    assert "path separator" in reasons["../escape.jpg"]
    assert "JPEG" in reasons["png-named.jpg"]
    assert "empty" in reasons["empty.jpg"]
    assert outcome["truncated.jpg"]["size"] == len(good) // 2
    for name, _ in files[:-1]:
        assert outcome[name]["stored_as"] == []
        assert await stored(workflow, f"sessions/{session_id}/hires/{name}") is None
    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert [i["original_name"] for i in images] == ["good.jpg"]


async def test_the_same_content_imported_twice_is_skipped_and_reported(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"dup-{unique}")
    body = picture("JPEG", shade=20)
    first = await import_files(workflow, session_id, [("A.jpg", body), ("A-copy.jpg", body)])
    assert [f["outcome"] for f in first["files"]] == ["stored", "skipped"]
    assert "already imported as A.jpg" in first["files"][1]["reason"]
    second = await import_files(
        workflow, session_id, [("A-again.jpg", body), ("B.jpg", picture("JPEG", shade=21))]
    )
    assert [f["outcome"] for f in second["files"]] == ["skipped", "stored"]
    assert second["files"][0]["stored_as"] == [f"sessions/{session_id}/hires/A.jpg"]
    assert await stored(workflow, f"sessions/{session_id}/hires/A-again.jpg") is None
    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert sorted(i["name"] for i in images) == ["A.jpg", "B.jpg"]


async def test_a_different_file_under_a_name_already_stored_is_rejected_not_overwritten(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"name-{unique}")
    original = picture("JPEG", shade=30)
    await import_files(workflow, session_id, [("X.jpg", original)])
    report = await import_files(workflow, session_id, [("X.jpg", picture("JPEG", shade=31))])
    [file] = report["files"]
    assert file["outcome"] == "rejected"
    assert "already stored as X.jpg" in file["reason"]
    assert await stored(workflow, f"sessions/{session_id}/hires/X.jpg") == original


async def test_rename_rules_and_the_image_number_rule_shape_the_stored_names(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"ren-{unique}", number="S10001")
    prefixed = await import_files(
        workflow,
        session_id,
        [("013-S10001.jpg", picture("JPEG", shade=40))],
        rename="session_prefix",
        number_rule="first",
        number_n=3,
        image_folders=["hires", "raw"],
    )
    [file] = prefixed["files"]
    assert file["outcome"] == "stored", file
    assert file["number"] == 13
    assert file["stored_as"] == [
        f"sessions/{session_id}/hires/S10001-013-S10001.jpg",
        f"sessions/{session_id}/raw/S10001-013-S10001.jpg",
    ]
    renumbered = await import_files(
        workflow,
        session_id,
        [
            ("DSC_7.NEF", b"nef" * 100),
            ("DSC_7.JPG", picture("JPEG", shade=41)),
            ("DSC_8.JPG", picture("JPEG", shade=42)),
        ],
        rename="renumber",
        renumber_from=100,
        renumber_digits=4,
    )
    names = [(f["stored_as"][0].split("/", 2)[2], f["number"]) for f in renumbered["files"]]
    assert names == [
        ("raw/S10001-0100.NEF", 100),
        ("hires/S10001-0100.JPG", 100),
        ("hires/S10001-0101.JPG", 101),
    ]
    kept = await import_files(
        workflow,
        session_id,
        [("S10001-0042-final.jpg", picture("JPEG", shade=43))],
        number_rule="from",
        number_n=8,
    )
    assert kept["files"][0]["number"] == 42


async def test_bad_options_an_unknown_session_and_an_empty_request_answer_in_the_error_shape(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"opt-{unique}")
    files = [("files", ("a.jpg", picture("JPEG"), "image/jpeg"))]
    bad = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=files,
        data={"options": json.dumps({"number_rule": "middle"})},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]
    assert bad.json()["detail"][0]["loc"] == ["number_rule"]
    broken = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports", files=files, data={"options": "{"}
    )
    assert broken.status_code == 422
    unknown = await workflow.client.post("/workflow/sessions/nope/imports", files=files)
    assert unknown.status_code == 404
    assert unknown.json()["error"]
    none = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports", data={"options": "{}"}
    )
    assert none.status_code == 422
    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert images == []


async def test_previews_from_render_are_attached_to_their_images_once(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"prev-{unique}")
    report = await import_files(
        workflow,
        session_id,
        [("P1.jpg", picture("JPEG", shade=50)), ("P2.CR3", b"raw" * 50)],
    )
    jpeg_id, raw_id = (f["image_id"] for f in report["files"])
    created = PreviewsCreated(
        session_id=session_id,
        previews=[
            PreviewRef(
                image_id=jpeg_id,
                key=f"sessions/{session_id}/previews/P1.jpg",
                width=32,
                height=24,
            )
        ],
        failures=[ImageFailure(image_id=raw_id, key="k", reason="no embedded preview")],
    )
    envelope = workflow.envelope(created, subject=session_id)
    await workflow.deliver(envelope)
    await workflow.deliver(envelope)
    jpeg = (await workflow.client.get(f"/workflow/images/{jpeg_id}")).json()
    assert jpeg["preview"] == {
        "key": f"sessions/{session_id}/previews/P1.jpg",
        "width": 32,
        "height": 24,
    }
    raw = (await workflow.client.get(f"/workflow/images/{raw_id}")).json()
    assert raw["preview"] is None
    assert raw["preview_failure"] == "no embedded preview"
    document = await workflow.db["images"].find_one({"_id": jpeg_id})
    assert document["_applied_events"] == [envelope.id]
    missing = await workflow.client.get("/workflow/images/nope")
    assert missing.status_code == 404


async def test_large_files_go_straight_to_storage_with_presigned_urls_then_import(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"pre-{unique}")
    big = picture("JPEG", size=(1600, 1200), shade=60)
    files = {"BIG_1.jpg": big, "BIG_1.NEF": b"nef" * 20_000, "broken.jpg": big[:5000]}
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/uploads",
        json={"names": [*files, "../../etc/passwd.jpg"]},
    )
    assert answer.status_code == 201, answer.text
    batch = answer.json()
    urls = {f["name"]: f for f in batch["files"]}
    assert urls["../../etc/passwd.jpg"]["url"] is None
    assert "path separator" in urls["../../etc/passwd.jpg"]["reason"]
    async with httpx.AsyncClient() as s3:
        for name, body in files.items():
            put = await s3.put(urls[name]["url"], content=body)
            assert put.status_code == 200, put.text

    imported = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports/uploaded",
        json={"upload_id": batch["upload_id"], "options": {"keywords": ["big"]}},
    )
    assert imported.status_code == 201, imported.text
    outcome = {f["original_name"]: f for f in imported.json()["files"]}
    assert outcome["BIG_1.jpg"]["outcome"] == "stored"
    assert outcome["BIG_1.NEF"]["stored_as"] == [f"sessions/{session_id}/raw/BIG_1.NEF"]
    assert outcome["broken.jpg"]["outcome"] == "rejected"
    assert await stored(workflow, f"sessions/{session_id}/hires/BIG_1.jpg") == big
    assert await stored(workflow, f"uploads/{session_id}/{batch['upload_id']}/BIG_1.jpg") is None
    again = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports/uploaded",
        json={"upload_id": batch["upload_id"]},
    )
    assert again.status_code == 404


async def test_a_medium_format_frame_beyond_pillows_default_limit_is_stored(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"mf-{unique}")
    # 90 MP: above Pillow's default bomb threshold (~89 MP), below WORKFLOW_MAX_IMAGE_PIXELS.
    body = picture("JPEG", size=(10_000, 9_000), shade=70)
    report = await import_files(workflow, session_id, [("MF_0001.jpg", body)])
    [file] = report["files"]
    assert file["outcome"] == "stored", file
    image = (await workflow.client.get(f"/workflow/images/{file['image_id']}")).json()
    assert (image["width"], image["height"]) == (10_000, 9_000)


async def test_an_images_preview_is_served_once_render_made_it_and_404_before(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"pv-{unique}")
    report = await import_files(workflow, session_id, [("V1.jpg", picture("JPEG", shade=80))])
    image_id = report["files"][0]["image_id"]
    before = await workflow.client.get(f"/workflow/images/{image_id}/preview")
    key = f"sessions/{session_id}/previews/V1.jpg"
    preview = picture("JPEG", shade=20)
    await workflow.platform.storage.put(
        workflow.infra.images_bucket, key, preview, content_type="image/jpeg"
    )
    created = PreviewsCreated(
        session_id=session_id,
        previews=[PreviewRef(image_id=image_id, key=key, width=32, height=24)],
        failures=[],
    )
    await workflow.deliver(workflow.envelope(created, subject=session_id))
    after = await workflow.client.get(f"/workflow/images/{image_id}/preview")
    unknown = await workflow.client.get("/workflow/images/nope/preview")

    assert before.status_code == 404
    assert "no preview yet" in before.json()["message"]
    assert after.status_code == 200
    assert after.headers["content-type"] == "image/jpeg"
    assert after.content == preview
    assert unknown.status_code == 404
