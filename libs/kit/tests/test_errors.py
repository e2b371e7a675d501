"""Every error a service answers has one body shape (pure unit tests: no servers)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from kit.errors import Conflict, TooManyRequests, install_error_handlers
from kit.logging import RequestIdMiddleware


class Booking(BaseModel):
    slot: int


def app_with_errors() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.post("/bookings")
    async def book(booking: Booking) -> dict[str, int]:
        if booking.slot == 9:
            raise Conflict("That slot was just taken.", detail={"slot": 9})
        if booking.slot == 7:
            raise TooManyRequests("Slow down.", retry_after_seconds=30)
        if booking.slot == 5:
            raise RuntimeError("a bug")
        return {"slot": booking.slot}

    return app


SHAPE = {"error", "message", "detail", "request_id"}


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://studio.test")


async def test_business_errors_validation_errors_unknown_routes_and_bugs_share_one_body_shape() -> (
    None
):
    client = client_of(app_with_errors())
    conflict = await client.post("/bookings", json={"slot": 9}, headers={"X-Request-ID": "req-42"})
    assert conflict.status_code == 409
    assert conflict.json() == {
        "error": "conflict",
        "message": "That slot was just taken.",
        "detail": {"slot": 9},
        "request_id": "req-42",
    }
    assert conflict.headers["x-request-id"] == "req-42"

    malformed = await client.post("/bookings", json={"slot": "soon"})
    assert malformed.status_code == 422
    assert set(malformed.json()) == SHAPE
    assert malformed.json()["error"] == "validation_error"
    assert malformed.json()["detail"][0]["location"] == ["body", "slot"]

    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert set(missing.json()) == SHAPE

    wrong_method = await client.get("/bookings")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"

    limited = await client.post("/bookings", json={"slot": 7})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"

    bug = await client.post("/bookings", json={"slot": 5})
    assert bug.status_code == 500
    assert bug.json()["error"] == "internal_error"


async def test_a_request_id_is_made_when_the_caller_sends_none_or_an_unsafe_one() -> None:
    client = client_of(app_with_errors())
    made = (await client.post("/bookings", json={"slot": 1})).headers["x-request-id"]
    assert len(made) == 32
    unsafe = await client.post(
        "/bookings", json={"slot": 1}, headers={"X-Request-ID": 'a b"<script>'}
    )
    assert unsafe.headers["x-request-id"] != 'a b"<script>'


async def test_the_openapi_document_describes_the_error_bodies_the_handlers_answer() -> None:
    app = app_with_errors()
    document = app.openapi()
    schemas = document["components"]["schemas"]
    responses = document["paths"]["/bookings"]["post"]["responses"]

    malformed = await client_of(app).post("/bookings", json={"slot": "soon"})
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/HTTPValidationError"
    )
    either = [ref["$ref"].rsplit("/", 1)[1] for ref in schemas["HTTPValidationError"]["anyOf"]]
    assert either == ["ValidationErrorBody", "UnprocessableBody"]
    validation = schemas["ValidationErrorBody"]
    assert set(validation["required"]) == set(malformed.json())
    assert validation["properties"]["error"]["const"] == malformed.json()["error"]
    problem = malformed.json()["detail"][0]
    assert set(schemas["ValidationProblem"]["required"]) == set(problem)

    unparsable = await client_of(app).post(
        "/bookings", content=b"\xc3\x28", headers={"Content-Type": "application/json"}
    )
    assert unparsable.status_code == 400
    assert set(unparsable.json()) == SHAPE
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert set(schemas["ErrorBody"]["properties"]) == SHAPE


async def test_a_bugs_500_carries_the_request_id_in_its_header_and_body() -> None:
    client = client_of(app_with_errors())

    given = await client.post("/bookings", json={"slot": 5}, headers={"X-Request-ID": "req-500"})
    made = await client.post("/bookings", json={"slot": 5})

    assert given.status_code == 500
    assert given.json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side.",
        "detail": None,
        "request_id": "req-500",
    }
    assert given.headers.get_list("x-request-id") == ["req-500"]
    assert made.status_code == 500
    assert len(made.headers["x-request-id"]) == 32
    assert made.json()["request_id"] == made.headers["x-request-id"]
