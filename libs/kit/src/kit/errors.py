"""One error model for every service and the gateway.

Business code raises a subclass of `StudioError`; one handler renders every error, including
FastAPI's validation errors and unknown routes, as the same JSON body:

    {"error": "<code>", "message": "<sentence for a person>", "detail": <any>, "request_id": "..."}
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.logging import REQUEST_ID_HEADER, current_request_id, request_id_of

log = logging.getLogger(__name__)


class StudioError(Exception):
    """Base of every error the platform answers with; carries its HTTP status and code."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers or {}


class BadRequest(StudioError):
    status_code = 400
    code = "bad_request"


class Unauthorized(StudioError):
    status_code = 401
    code = "unauthorized"


class Forbidden(StudioError):
    status_code = 403
    code = "forbidden"


class NotFound(StudioError):
    status_code = 404
    code = "not_found"


class Conflict(StudioError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A state change that the entity's current state does not allow."""

    code = "invalid_transition"


class Gone(StudioError):
    status_code = 410
    code = "gone"


class PayloadTooLarge(StudioError):
    status_code = 413
    code = "payload_too_large"


class UriTooLong(StudioError):
    status_code = 414
    code = "uri_too_long"


class UnsupportedMediaType(StudioError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(StudioError):
    """Well-formed input that breaks a business rule (a limit, a reference to nothing)."""

    status_code = 422
    code = "unprocessable"


class TooManyRequests(StudioError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_seconds: int, detail: Any = None) -> None:
        super().__init__(
            message, detail=detail, headers={"Retry-After": str(max(1, retry_after_seconds))}
        )


class BadGateway(StudioError):
    status_code = 502
    code = "bad_gateway"


class ServiceUnavailable(StudioError):
    status_code = 503
    code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached (it is down, restarting, or out of reach)."""

    code = "database_unavailable"


# How long a caller is told to wait when the database is away: the driver finds a server that
# is back within its next heartbeat and server selection, so a few seconds is enough.
DATABASE_RETRY_AFTER_SECONDS = 5


class GatewayTimeout(StudioError):
    status_code = 504
    code = "gateway_timeout"


def error_body(
    code: str, message: str, detail: Any = None, *, request_id: str | None = None
) -> dict[str, Any]:
    """The one error body shape, for code that answers without raising (gateway proxying);
    the request id is the current request's unless given."""
    return {
        "error": code,
        "message": message,
        "detail": detail,
        "request_id": request_id or current_request_id(),
    }


class ErrorBody(BaseModel):
    """The one error body shape, as the OpenAPI documents describe it."""

    error: str
    message: str
    detail: Any = None
    request_id: str | None


class ValidationProblem(BaseModel):
    """One problem of a malformed request: where (`["body", "email"]`), what, and its kind."""

    location: list[str | int]
    message: str
    type: str | None


class ValidationErrorBody(ErrorBody):
    """A 422 for a malformed request: the problems are the detail."""

    error: Literal["validation_error"]
    detail: list[ValidationProblem]


class UnprocessableBody(ErrorBody):
    """A 422 for well-formed input that breaks a business rule (`Unprocessable`)."""

    error: Literal["unprocessable"]


_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF)
    schema.pop("$defs", None)
    return schema


def describe_errors(document: dict[str, Any]) -> None:
    """Make an OpenAPI document say what the handlers below answer: a 422 is a malformed
    request (our problems, not FastAPI's `{"detail": [{"loc", "msg", "type"}]}`) or a broken
    business rule; an operation that takes a body may answer 400 (a body that cannot be parsed,
    e.g. not UTF-8) and one with path parameters 404 (nothing has that id); and every error
    response declared without a body (`responses={409: {}}`) has the one error body."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ValidationProblem, ValidationErrorBody, UnprocessableBody):
        schemas[model.__name__] = _schema(model)
    if "HTTPValidationError" in schemas:
        schemas.pop("ValidationError", None)
        schemas["HTTPValidationError"] = {
            "title": "HTTPValidationError",
            "anyOf": [
                {"$ref": _REF.format(model="ValidationErrorBody")},
                {"$ref": _REF.format(model="UnprocessableBody")},
            ],
        }
    error_content = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "The body cannot be parsed"})
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                responses.setdefault("404", {"description": "Nothing has that id"})
            for status, response in responses.items():
                if status[:1] in ("4", "5") and "content" not in response:
                    response["content"] = error_content


def _http_code(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        406: "not_acceptable",
        413: "payload_too_large",
        414: "uri_too_long",
        415: "unsupported_media_type",
    }.get(status, f"http_{status}")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of `app` in the one body shape, and say so in its OpenAPI."""
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate_openapi()
            describe_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def studio_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StudioError)
        if exc.status_code >= 500:
            log.warning("answering %s: %s", exc.status_code, exc.message)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.detail),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "The request is malformed; see detail.", problems),
            status_code=422,
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            error_body(_http_code(exc.status_code), str(exc.detail)),
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # PyMongo's ConnectionFailure: no server answered within the selection timeout, or the
        # connection broke. The client reconnects by itself once the server is back.
        log.warning("database unavailable: %s", str(exc)[:300])
        error = DatabaseUnavailable(
            "The database does not answer; try again in a few seconds.",
            detail={"retry_after_seconds": DATABASE_RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
        return JSONResponse(
            error_body(error.code, error.message, error.detail),
            status_code=error.status_code,
            headers=error.headers,
        )

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug stays a 500: never disguised as the caller's fault. Starlette answers it
        # outside every middleware, so the request id is taken from the scope and sent here.
        request_id = current_request_id() or request_id_of(request.scope)
        log.exception("unhandled error", exc_info=exc, extra={"request_id": request_id})
        return JSONResponse(
            error_body(
                "internal_error", "Something went wrong on our side.", request_id=request_id
            ),
            status_code=500,
            headers={REQUEST_ID_HEADER: request_id} if request_id else None,
        )

    app.add_exception_handler(StudioError, studio_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ConnectionFailure, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
