"""A session's group or selection, as workflow knows it: its images' storage keys.

Delivery reads them through workflow's HTTP API (the session's render set, contract A, the read
render makes too: `GET /workflow/sessions/{id}/render-set?group_id=&selection=&min_stars=`),
never its database. Each image comes as its retouched file when it has one, else its hi-res
original; a group keeps the group's order.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from delivery.context import DeliveryContext
from kit.errors import BadGateway, ServiceUnavailable, Unprocessable
from kit.internal_auth import peer_client

HTTP_KEY = "workflow_http"
CALLER = {"X-User-Id": "delivery", "X-User-Role": "staff"}


class WorkflowImage(BaseModel):
    """One item of workflow's render set (the fields delivery uses; the rest are ignored)."""

    image_id: str
    key: str


class WorkflowImages(BaseModel):
    session_id: str
    items: list[WorkflowImage]


def workflow_http(ctx: DeliveryContext) -> httpx.AsyncClient:
    """The process's client for workflow's API (made on first use, closed at stop)."""
    client = ctx.platform.extras.get(HTTP_KEY)
    if client is None:
        client = peer_client(ctx.settings.workflow_url, CALLER, ctx.settings.infra)
        ctx.platform.extras[HTTP_KEY] = client
    assert isinstance(client, httpx.AsyncClient)
    return client


async def chosen_keys(
    ctx: DeliveryContext,
    session_id: str,
    *,
    group_id: str | None,
    selection: str | None,
    min_stars: int | None,
) -> list[str]:
    """The keys of the session's images in the group and/or with the rating asked for.

    Workflow not knowing the session or the group, or refusing the filter (a group of another
    session), is a 422 naming what it said; workflow away is a 503."""
    query: dict[str, Any] = {"folder": "hires"}
    if group_id is not None:
        query["group_id"] = group_id
    if selection is not None:
        query["selection"] = selection
    if min_stars is not None:
        query["min_stars"] = min_stars
    try:
        answer = await workflow_http(ctx).get(
            f"/workflow/sessions/{session_id}/render-set", params=query
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The workflow service cannot be reached; try the delivery again.",
            detail={"workflow": type(exc).__name__},
        ) from exc
    if answer.status_code in (404, 422):
        said = _message(answer)
        field = "group_id" if group_id is not None and "group" in said.lower() else "session_id"
        raise Unprocessable(
            f"Workflow has no such images: {said}",
            detail={"field": field, "workflow_status": answer.status_code},
        )
    if answer.status_code != 200:
        raise BadGateway(
            f"The workflow service answered {answer.status_code}.",
            detail={"workflow": _message(answer)},
        )
    found = WorkflowImages.model_validate(answer.json())
    return list(dict.fromkeys(item.key for item in found.items))


def _message(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body)[:300]
    return str(body)[:300]


async def close_workflow_http(ctx: DeliveryContext) -> None:
    client = ctx.platform.extras.pop(HTTP_KEY, None)
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()
