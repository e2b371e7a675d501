"""Every route of every service refuses a query parameter it does not declare (a 422 naming
it, in the error shape), except the few that take any query string on purpose: the gateway's
pass-through routes (the service behind checks), pages and links opened from emails (mail
senders add tracking parameters), the Stripe webhook and static map assets.

The apps are built as their processes build them; a request with an unknown parameter is sent
to each GET route in process (no lifespan: the strictness check comes before any route reads
the database, so a refusal here is the one a running service gives).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from kit.internal_auth import internal_auth
from kit.query_params import takes_any_query
from kit.settings import InfraSettings


def _apps() -> dict[str, Callable[[], FastAPI]]:
    from booking.main import create_app as booking
    from delivery.main import create_app as delivery
    from gateway.main import create_app as gateway
    from maps.main import create_app as maps
    from notify.main import create_app as notify
    from render.main import create_app as render
    from workflow.main import create_app as workflow

    return {
        "booking": booking,
        "workflow": workflow,
        "render": render,
        "delivery": delivery,
        "maps": maps,
        "notify": notify,
        "gateway": gateway,
    }


# Routes that take any query string, by (service, path); a new one must be added here on purpose.
FREE = {
    ("booking", "/public/payments/stripe-webhook"),
    ("booking", "/public/sessions/{session_id}"),
    ("booking", "/public/sessions/{session_id}/{purpose}"),
    ("delivery", "/d/{token}"),
    ("delivery", "/d/{token}/pin"),
    ("delivery", "/d/{token}/files/{index}"),
    ("delivery", "/d/{token}/archives/{index}"),
    ("delivery", "/d/{token}/invoices/{invoice_id}.pdf"),
    ("maps", "/maps/assets/{name:path}"),
    ("notify", "/u/{token}"),
    ("gateway", "/api/{service}/{path:path}"),
    ("gateway", "/public/payments/stripe-webhook"),
    ("gateway", "/payments/stripe/webhook"),
    ("gateway", "/public/bookings"),
    ("gateway", "/lab/{vendor_id}/events"),
    ("gateway", "/public/{path:path}"),
    ("gateway", "/maps/assets/{name:path}"),
    ("gateway", "/d/{token}/pin"),
    ("gateway", "/d/{token}"),
    ("gateway", "/d/{token}/{path:path}"),
    ("gateway", "/u/{token}"),
}
# The process's own health routes take no parameters and are left lenient (probes).
HEALTH = {"/healthz", "/readyz"}


def _routes(app: FastAPI) -> list[Any]:
    """Every API route as served, with the dependencies its routers were included with
    (FastAPI 0.165 keeps included routers apart; their routes' contexts carry both)."""
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and r.path not in HEALTH
    ]


@pytest.mark.parametrize("service", list(_apps()))
def test_only_the_listed_routes_take_any_query_string(service: str) -> None:
    app = _apps()[service]()
    routes = _routes(app)
    assert len(routes) > 3
    free = {(service, r.path) for r in routes if takes_any_query(r.dependant)}
    assert free == {entry for entry in FREE if entry[0] == service}


@pytest.mark.parametrize("service", list(_apps()))
async def test_every_get_route_refuses_an_unknown_query_parameter_naming_it(service: str) -> None:
    app = _apps()[service]()
    # Signed as a peer would when this environment checks internal calls.
    auth = internal_auth(InfraSettings())
    gets = [r for r in _routes(app) if "GET" in r.methods and not takes_any_query(r.dependant)]
    assert gets
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://svc.test", auth=auth
    ) as http:
        for route in gets:
            path = re.sub(r"\{[^}]+\}", "x1", route.path)
            answer = await http.get(path, params={"no_such_filter": "1"})
            assert answer.status_code == 422, (route.path, answer.status_code, answer.text[:300])
            body = answer.json()
            assert body["error"] == "validation_error", (route.path, body)
            assert body["detail"][0]["location"] == ["query", "no_such_filter"], (route.path, body)
            assert body["detail"][0]["type"] == "extra_forbidden"
