"""Before the sales presentation the studio rates, groups, orders and compares a session's
images, and deletes the ones that must go for good."""

from __future__ import annotations

from typing import Any

from image_factory import booked_session, picture
from workflow_harness import Workflow


async def session_with_images(workflow: Workflow, session_id: str, count: int) -> list[str]:
    await booked_session(workflow, session_id)
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[
            ("files", (f"IMG_{n:04d}.jpg", picture("JPEG", shade=n), "image/jpeg"))
            for n in range(1, count + 1)
        ],
    )
    assert answer.status_code == 201, answer.text
    return [f["image_id"] for f in answer.json()["files"]]


async def test_the_studio_rates_images_with_a_selection_and_stars(
    workflow: Workflow, unique: str
) -> None:
    first, second = await session_with_images(workflow, f"rate-{unique}", 2)
    rated = await workflow.client.put(
        f"/workflow/images/{first}/rating", json={"selection": "selected", "stars": 4}
    )
    assert rated.json() == {"image_id": first, "selection": "selected", "stars": 4}
    starred = await workflow.client.put(f"/workflow/images/{first}/rating", json={"stars": 5})
    assert starred.json()["selection"] == "selected"
    image = (await workflow.client.get(f"/workflow/images/{first}")).json()
    assert (image["selection"], image["stars"]) == ("selected", 5)
    untouched = (await workflow.client.get(f"/workflow/images/{second}")).json()
    assert (untouched["selection"], untouched["stars"]) == ("undecided", 0)

    too_many = await workflow.client.put(f"/workflow/images/{second}/rating", json={"stars": 6})
    assert too_many.status_code == 422
    odd = await workflow.client.put(
        f"/workflow/images/{second}/rating", json={"selection": "maybe"}
    )
    assert odd.status_code == 422
    empty = await workflow.client.put(f"/workflow/images/{second}/rating", json={})
    assert empty.status_code == 422
    missing = await workflow.client.put("/workflow/images/nope/rating", json={"stars": 1})
    assert missing.status_code == 404


async def test_named_groups_keep_their_order_and_refuse_foreign_images(
    workflow: Workflow, unique: str
) -> None:
    images = await session_with_images(workflow, f"grp-{unique}", 3)
    [foreign] = await session_with_images(workflow, f"grp2-{unique}", 1)
    session = f"grp-{unique}"
    url = f"/workflow/sessions/{session}/groups"
    family = await workflow.client.post(url, json={"name": "Family", "image_ids": images[:2]})
    assert family.status_code == 201, family.text
    couple = await workflow.client.post(url, json={"name": "Couple", "image_ids": [images[2]]})
    assert couple.json()["position"] == 1
    moved = await workflow.client.patch(
        f"/workflow/groups/{couple.json()['group_id']}", json={"position": 0, "name": "Us"}
    )
    assert moved.json()["name"] == "Us"
    await workflow.client.patch(
        f"/workflow/groups/{family.json()['group_id']}", json={"position": 1}
    )
    listed = (await workflow.client.get(url)).json()
    assert [(g["name"], g["image_ids"]) for g in listed] == [
        ("Us", [images[2]]),
        ("Family", images[:2]),
    ]

    refused: list[Any] = [
        await workflow.client.post(url, json={"name": "X", "image_ids": [foreign]}),
        await workflow.client.post(url, json={"name": "X", "image_ids": [images[0], images[0]]}),
        await workflow.client.post(url, json={"name": "", "image_ids": []}),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422]
    assert refused[0].json()["detail"] == {"unknown_image_ids": [foreign]}
    assert len((await workflow.client.get(url)).json()) == 2
    gone = await workflow.client.delete(f"/workflow/groups/{family.json()['group_id']}")
    assert gone.status_code == 204
    again = await workflow.client.delete(f"/workflow/groups/{family.json()['group_id']}")
    assert again.status_code == 404
    unknown = await workflow.client.get("/workflow/sessions/nope/groups")
    assert unknown.status_code == 404


async def test_the_slideshow_plays_the_chosen_order_then_the_rest_by_number(
    workflow: Workflow, unique: str
) -> None:
    images = await session_with_images(workflow, f"show-{unique}", 4)
    url = f"/workflow/sessions/show-{unique}/slideshow"
    default = (await workflow.client.get(url)).json()
    assert default == {"session_id": f"show-{unique}", "image_ids": images, "custom": False}
    chosen = await workflow.client.put(url, json={"image_ids": [images[3], images[1]]})
    assert chosen.json()["image_ids"] == [images[3], images[1], images[0], images[2]]
    assert (await workflow.client.get(url)).json()["custom"] is True
    bad = await workflow.client.put(url, json={"image_ids": ["nope"]})
    assert bad.status_code == 422
    assert (await workflow.client.get(url)).json()["image_ids"][0] == images[3]


async def test_comparison_sets_hold_two_to_eight_images_side_by_side(
    workflow: Workflow, unique: str
) -> None:
    images = await session_with_images(workflow, f"cmp-{unique}", 3)
    url = f"/workflow/sessions/cmp-{unique}/comparisons"
    made = await workflow.client.post(url, json={"name": "Smile", "image_ids": images[:2]})
    assert made.status_code == 201
    one = await workflow.client.post(url, json={"name": "Alone", "image_ids": images[:1]})
    assert one.status_code == 422
    listed = (await workflow.client.get(url)).json()
    assert [(c["name"], c["image_ids"]) for c in listed] == [("Smile", images[:2])]
    deleted = await workflow.client.delete(f"/workflow/comparisons/{made.json()['comparison_id']}")
    assert deleted.status_code == 204
    assert (await workflow.client.get(url)).json() == []


async def test_permanently_deleting_one_image_removes_its_files_and_announces_it(
    workflow: Workflow, unique: str
) -> None:
    session_id = f"del-{unique}"
    doomed, kept = await session_with_images(workflow, session_id, 2)
    group = await workflow.client.post(
        f"/workflow/sessions/{session_id}/groups", json={"name": "All", "image_ids": [doomed, kept]}
    )
    image = (await workflow.client.get(f"/workflow/images/{doomed}")).json()
    bucket = workflow.context.settings.infra.images_bucket
    [key] = image["keys"].values()
    assert await workflow.context.storage.exists(bucket, key)

    answer = await workflow.client.delete(f"/workflow/images/{doomed}")
    assert answer.status_code == 204
    assert not await workflow.context.storage.exists(bucket, key)
    assert (await workflow.client.get(f"/workflow/images/{doomed}")).status_code == 404
    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert [i["image_id"] for i in images] == [kept]
    groups = (await workflow.client.get(f"/workflow/sessions/{session_id}/groups")).json()
    assert groups[0]["group_id"] == group.json()["group_id"]
    assert groups[0]["image_ids"] == [kept]
    events = await workflow.workflow_events(session_id, 3)
    [deleted] = [e for e in events if e.type == "workflow.images.deleted.v1"]
    assert deleted.data["images"] == [
        {"image_id": doomed, "key": key, "folder": "hires", "content_type": "image/jpeg"}
    ]
    assert (await workflow.client.delete(f"/workflow/images/{doomed}")).status_code == 404

    # The same content may be imported again once deleted.
    again = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[("files", ("IMG_0001.jpg", picture("JPEG", shade=1), "image/jpeg"))],
    )
    assert again.json()["files"][0]["outcome"] == "stored"
