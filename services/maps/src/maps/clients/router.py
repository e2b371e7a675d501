"""The client projection, read-only: what maps knows of a client."""

from __future__ import annotations

from fastapi import APIRouter

from kit.errors import NotFound
from maps.bootstrap import ServicesDep
from maps.clients.schemas import ProjectedClient

router = APIRouter(prefix="/clients", tags=["clients"])


@router.get("/{client_id}")
async def get_projected_client(client_id: str, services: ServicesDep) -> ProjectedClient:
    """The client as projected from booking's events (address, tags, sessions)."""
    client = await services.projection.get(client_id)
    if client is None:
        raise NotFound("No such client in the maps projection.", detail={"id": client_id})
    return client
