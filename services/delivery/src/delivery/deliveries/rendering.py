"""Deliveries rendered through named render profiles first (contract B with render).

The delivery asks render's API for an ad-hoc run (`POST /runs` with the profiles, the keys and
the reference "delivery:<id>") and waits in `rendering`; the run's outcome comes back as
`render.run.completed.v1` / `render.run.failed.v1` carrying the same reference.
"""

from __future__ import annotations

from typing import Any

import httpx

from delivery.context import DeliveryContext
from kit.errors import BadGateway, ServiceUnavailable, Unprocessable
from kit.internal_auth import peer_client

HTTP_KEY = "render_http"
CALLER = {"X-User-Id": "delivery", "X-User-Role": "staff"}
REFERENCE_PREFIX = "delivery:"


def reference_of(delivery_id: str) -> str:
    return f"{REFERENCE_PREFIX}{delivery_id}"


def delivery_id_of(reference: str | None) -> str | None:
    """The delivery a run was asked for by, or None when no delivery asked for it."""
    if reference is None or not reference.startswith(REFERENCE_PREFIX):
        return None
    return reference[len(REFERENCE_PREFIX) :] or None


def render_http(ctx: DeliveryContext) -> httpx.AsyncClient:
    """The process's client for render's API (made on first use, closed at stop)."""
    client = ctx.platform.extras.get(HTTP_KEY)
    if client is None:
        client = peer_client(ctx.settings.render_url, CALLER, ctx.settings.infra)
        ctx.platform.extras[HTTP_KEY] = client
    assert isinstance(client, httpx.AsyncClient)
    return client


async def start_render_run(
    ctx: DeliveryContext,
    *,
    delivery_id: str,
    session_id: str,
    profile_ids: list[str],
    keys: list[str],
) -> str:
    """Ask render for the run; its id. Render's refusal is a 422, render away a 503."""
    body = {
        "session_id": session_id,
        "profile_ids": profile_ids,
        "keys": keys,
        "reference": reference_of(delivery_id),
    }
    try:
        answer = await render_http(ctx).post("/runs", json=body)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The render service cannot be reached; try the delivery again.",
            detail={"render": type(exc).__name__},
        ) from exc
    if answer.status_code == 202:
        run_id: str = answer.json()["id"]
        return run_id
    refusal = _error_body(answer)
    if 400 <= answer.status_code < 500:
        raise Unprocessable(
            f"Render refused the run: {refusal.get('message') or answer.reason_phrase}",
            detail={"render_status": answer.status_code, "render": refusal.get("detail")},
        )
    raise BadGateway(
        f"The render service answered {answer.status_code}.",
        detail={"render": refusal.get("message")},
    )


async def read_render_run(ctx: DeliveryContext, run_id: str) -> dict[str, Any] | None:
    """Render's view of a run (status, `done` of `total`, outputs, error); None if render
    knows no such run. Render out of reach raises ServiceUnavailable."""
    try:
        answer = await render_http(ctx).get(f"/runs/{run_id}")
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The render service cannot be reached.", detail={"render": type(exc).__name__}
        ) from exc
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise BadGateway(f"The render service answered {answer.status_code}.")
    run: dict[str, Any] = answer.json()
    return run


def _error_body(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def close_render_http(ctx: DeliveryContext) -> None:
    client = ctx.platform.extras.pop(HTTP_KEY, None)
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()
