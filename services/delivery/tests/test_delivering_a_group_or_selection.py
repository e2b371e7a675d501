"""The studio delivers a group of a session (by its workflow group id) or the client's
selection without listing storage keys: delivery asks the real workflow service (in-process,
on the same servers) through its HTTP API which images those are."""

from __future__ import annotations

import posixpath
from typing import Any

from workflow_peer import booked_with_images, through_workflow, workflow_service

from delivery.deliveries.workflow_images import CALLER
from workflow.context import context_of as workflow_context


async def test_delivering_a_group_or_the_clients_selection_needs_no_storage_keys(
    delivery_service: Any, unique: str
) -> None:
    session = f"g-{unique}"
    async with (
        delivery_service() as service,
        workflow_service(unique, service.infra) as (wf_app, workflow),
    ):
        through_workflow(service, wf_app)
        first, second, third, fourth = await booked_with_images(
            workflow_context(wf_app.state.platform), workflow, session
        )
        for image, rating in ((first, "selected"), (third, "selected"), (fourth, "undecided")):
            rated = await workflow.put(
                f"/workflow/images/{image}/rating", json={"selection": rating}
            )
            assert rated.status_code == 200, rated.text
        group = await workflow.post(
            f"/workflow/sessions/{session}/groups",
            json={"name": "Wall", "image_ids": [fourth, second]},
        )
        assert group.status_code == 201, group.text
        group_id = group.json()["group_id"]
        empty = await workflow.post(
            f"/workflow/sessions/{session}/groups", json={"name": "Empty", "image_ids": []}
        )
        assert empty.status_code == 201, empty.text

        # The keys workflow gives render for the same choices: delivery must deliver these.
        async def expected(**params: Any) -> list[str]:
            answer = await workflow.get(
                f"/workflow/sessions/{session}/render-set", params=params, headers=CALLER
            )
            assert answer.status_code == 200, answer.text
            return [posixpath.basename(i["key"]) for i in answer.json()["items"]]

        in_group = await expected(group_id=group_id)
        selected = await expected(selection="selected")
        assert len(in_group) == 2
        assert len(selected) == 2

        wall = await service.http.post(
            "/deliveries", json={"session_id": session, "group_id": group_id}
        )
        assert wall.status_code == 202, wall.text
        assert wall.json()["file_count"] == 2
        chosen = await service.http.post(
            "/deliveries", json={"session_id": session, "selection": "selected"}
        )
        assert chosen.status_code == 202, chosen.text

        wall_done = await service.settled(wall.json()["id"])
        chosen_done = await service.settled(chosen.json()["id"])
        assert wall_done["status"] == chosen_done["status"] == "ready"
        assert [f["name"] for f in wall_done["files"]] == in_group  # the group's order
        assert sorted(f["name"] for f in chosen_done["files"]) == sorted(selected)

        # What cannot be delivered is refused at once, saying why; nothing is kept.
        unknown = await service.http.post(
            "/deliveries", json={"session_id": session, "group_id": "grp_nothing"}
        )
        assert unknown.status_code == 422
        assert unknown.json()["message"].startswith("Workflow has no such images")
        nothing = await service.http.post(
            "/deliveries", json={"session_id": session, "group_id": empty.json()["group_id"]}
        )
        assert nothing.status_code == 422
        assert "no images to deliver" in nothing.json()["message"]
        both = await service.http.post(
            "/deliveries",
            json={"session_id": session, "group_id": group_id, "folder": "hires"},
        )
        assert both.status_code == 422
        assert both.json()["detail"] == {"given": ["folder", "group_id or selection"]}
        listed = (await service.http.get("/deliveries", params={"session_id": session})).json()
        assert len(listed) == 2


async def test_workflow_out_of_reach_answers_503_and_keeps_no_delivery(
    delivery_service: Any,
) -> None:
    async with delivery_service(workflow_url="http://127.0.0.1:9") as service:
        answer = await service.http.post(
            "/deliveries", json={"session_id": "s1", "selection": "selected"}
        )
        assert answer.status_code == 503
        assert answer.json()["error"] == "service_unavailable"
        assert (await service.http.get("/deliveries")).json() == []
