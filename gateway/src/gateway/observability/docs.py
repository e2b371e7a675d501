"""One Swagger UI listing the gateway's and every service's OpenAPI, as seen through the gateway."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.context import ContextDep
from kit.errors import BadGateway, NotFound

router = APIRouter(tags=["docs"])

_SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


@router.get("/docs/all", response_class=HTMLResponse, summary="Swagger UI of every service")
async def all_docs(context: ContextDep) -> HTMLResponse:
    """A Swagger UI with a selector of the gateway's and every service's OpenAPI."""
    urls = [{"url": "/openapi.json", "name": "gateway"}] + [
        {"url": f"/openapi/{name}.json", "name": name} for name in context.settings.upstreams
    ]
    page = f"""<!doctype html>
<html><head><title>Studio platform API</title>
<link rel="stylesheet" href="{_SWAGGER}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{_SWAGGER}/swagger-ui-bundle.js"></script>
<script src="{_SWAGGER}/swagger-ui-standalone-preset.js"></script>
<script>
SwaggerUIBundle({{dom_id: "#swagger-ui", urls: {json.dumps(urls)},
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"}});
</script></body></html>"""
    return HTMLResponse(page)


@router.get(
    "/openapi/{service}.json",
    summary="A service's OpenAPI, with the gateway as its server",
    responses={404: {}, 502: {}},
)
async def service_openapi(
    service: Annotated[str, Path(max_length=40)], context: ContextDep
) -> JSONResponse:
    """The service's OpenAPI document, its server set to `/api/<service>` on the gateway."""
    base = context.settings.upstreams.get(service)
    if base is None:
        raise NotFound(f"There is no service named {service!r}.")
    try:
        answer = await context.forwarder.client.get(f"{base}/openapi.json")
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise BadGateway(
            f"The {service} service's OpenAPI cannot be read.", detail={"service": service}
        ) from exc
    document["servers"] = [{"url": f"/api/{service}"}]
    return JSONResponse(document)
