"""Unknown query parameters are refused, not silently ignored.

FastAPI drops a query parameter a route does not declare, so a caller's typo
(`?postcode=02134` for `postal_code`) answers an unfiltered list as if it were the one asked
for. `forbid_unknown_query_parameters` compares the request's query parameters with the ones
its route declares (its own, its dependencies', a query model's fields, by alias) and answers
422 in the one error body shape, one problem per unknown name:

    {"error": "validation_error", "message": "The request is malformed; see detail.",
     "detail": [{"location": ["query", "postcode"], "type": "extra_forbidden",
                 "message": "Unknown query parameter 'postcode'; this route takes: ..."}]}

Every service adopts it for all its routes: `create_service_app` includes each router of its
spec with it (`ServiceSpec.strict_query`, on unless said otherwise). A route whose query string
is not its own to check (a pass-through to another service, a page opened from an email that
may carry tracking parameters, a webhook, a static asset with a cache-busting suffix) says so
with `FreeQuery`, on the route or its router: `@router.get(..., dependencies=[FreeQuery])`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.params import Query
from fastapi.routing import APIRoute
from pydantic import BaseModel


def _query_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a `Annotated[SomeModel, Query()]` parameter (FastAPI's query models)."""
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def declared_query_parameters(dependant: Dependant) -> frozenset[str]:
    """The query parameter names a route (its dependant tree) reads."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            model = (
                _query_model(field.field_info.annotation)
                if isinstance(field.field_info, Query)
                else None
            )
            if model is None:
                names.add(field.alias)
            else:
                names.update(f.alias or name for name, f in model.model_fields.items())
        pending.extend(current.dependencies)
    return frozenset(names)


async def accept_any_query_parameters() -> None:
    """The `FreeQuery` marker: a route depending on it takes any query string."""


def takes_any_query(dependant: Dependant) -> bool:
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is accept_any_query_parameters:
            return True
        pending.extend(current.dependencies)
    return False


def unknown_query_parameters(request: Request) -> list[str]:
    """The request's query parameter names its route does not declare, in request order."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return []
    if takes_any_query(route.dependant):
        return []
    # Walked on each request (a few dependants: microseconds); routes are not hashable.
    declared = declared_query_parameters(route.dependant)
    return [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]


async def forbid_unknown_query_parameters(request: Request) -> None:
    """A dependency: 422 (`validation_error`) naming every query parameter the route does not
    declare."""
    unknown = unknown_query_parameters(request)
    if not unknown:
        return
    route = request.scope["route"]
    takes = ", ".join(sorted(declared_query_parameters(route.dependant))) or "no query parameters"
    raise RequestValidationError(
        [
            {
                "loc": ("query", name),
                "msg": f"Unknown query parameter {name!r}; this route takes: {takes}.",
                "type": "extra_forbidden",
                "input": request.query_params.getlist(name),
            }
            for name in unknown
        ]
    )


StrictQuery = Depends(forbid_unknown_query_parameters)
FreeQuery = Depends(accept_any_query_parameters)
