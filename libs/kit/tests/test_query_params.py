"""An unknown query parameter is a 422 in the one error body shape naming it, on any route
that adopts `StrictQuery`: declared parameters of the route, of its dependencies and of a
query model all count as known; a route marked `FreeQuery` (or its router) takes any; a route
without either keeps FastAPI's leniency."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, Field

from kit.errors import install_error_handlers
from kit.query_params import FreeQuery, StrictQuery


class Paging(BaseModel):
    page: int = 1
    page_size: Annotated[int, Field(alias="page-size")] = 10


def name_filter(name: str | None = None, tag: Annotated[list[str], Query()] = []) -> str:  # noqa: B006
    return f"{name}:{','.join(tag)}"


def an_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    strict = APIRouter(dependencies=[StrictQuery])

    @strict.get("/things")
    async def things(
        paging: Annotated[Paging, Query()],
        found: Annotated[str, Depends(name_filter)],
        sort: Annotated[str, Query(alias="order")] = "name",
    ) -> dict[str, str | int]:
        return {"found": found, "sort": sort, "page": paging.page, "size": paging.page_size}

    @strict.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @strict.get("/from-mail/{thing_id}", dependencies=[FreeQuery])
    async def from_mail(thing_id: str, ref: str | None = None) -> dict[str, str | None]:
        return {"id": thing_id, "ref": ref}

    free = APIRouter(dependencies=[FreeQuery])

    @free.get("/pass/{path:path}")
    async def passing(path: str) -> dict[str, str]:
        return {"path": path}

    lenient = APIRouter()

    @lenient.get("/lenient")
    async def lenient_route(name: str | None = None) -> dict[str, str | None]:
        return {"name": name}

    app.include_router(strict)
    # As create_service_app includes a service's routers: strict from outside.
    app.include_router(free, dependencies=[StrictQuery])
    app.include_router(lenient)
    return app


async def get(path: str, **params: str | list[str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=an_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        return await client.get(path, params=params)


async def test_every_declared_query_parameter_is_accepted() -> None:
    answer = await get(
        "/things", name="ann", tag=["a", "b"], order="-name", page="2", **{"page-size": "5"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"found": "ann:a,b", "sort": "-name", "page": 2, "size": 5}


async def test_an_unknown_query_parameter_is_a_422_naming_it_in_the_error_shape() -> None:
    answer = await get("/things", name="ann", postcode="02134", sort="name")
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "message", "detail", "request_id"}
    assert body["error"] == "validation_error"
    assert [p["location"] for p in body["detail"]] == [["query", "postcode"], ["query", "sort"]]
    assert {p["type"] for p in body["detail"]} == {"extra_forbidden"}
    # The message says what the route takes (the alias, not the Python name).
    message = body["detail"][0]["message"]
    assert "'postcode'" in message
    for declared in ("order", "page-size", "tag", "name"):
        assert declared in message


async def test_a_route_without_query_parameters_refuses_any() -> None:
    answer = await get("/things/7", verbose="1")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["location"] == ["query", "verbose"]
    assert "no query parameters" in answer.json()["detail"][0]["message"]
    assert (await get("/things/7")).status_code == 200


async def test_a_route_that_did_not_adopt_it_still_ignores_unknown_parameters() -> None:
    answer = await get("/lenient", name="x", typo="y")
    assert answer.status_code == 200
    assert answer.json() == {"name": "x"}


async def test_a_route_marked_free_takes_any_query_string_and_still_reads_its_own() -> None:
    answer = await get("/from-mail/7", ref="a", utm_source="newsletter")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "7", "ref": "a"}
    # Marked on its router, it holds though the app includes the router strictly.
    passed = await get("/pass/x/y", anything="1", more=["2", "3"])
    assert passed.status_code == 200, passed.text
    assert passed.json() == {"path": "x/y"}
