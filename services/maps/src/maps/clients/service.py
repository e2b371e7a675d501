"""Selecting the clients of one map, within the map's limit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from kit.errors import Unprocessable
from kit.mongo import Document
from maps.clients.repository import ClientProjection
from maps.clients.schemas import ClientFilter, ClientSelection, ProjectedClient


@dataclass(frozen=True)
class SelectedClients:
    clients: list[ProjectedClient]
    unknown_ids: list[str]  # explicit ids that the projection does not hold

    @property
    def count(self) -> int:
        return len(self.clients) + len(self.unknown_ids)


class ClientSelector:
    def __init__(self, projection: ClientProjection) -> None:
        self._projection = projection

    async def select(self, selection: ClientSelection, *, limit: int, what: str) -> SelectedClients:
        """The selected clients; Unprocessable naming the limit and the count when over it."""
        if selection.client_ids is not None:
            ids = list(dict.fromkeys(selection.client_ids))
            _check_limit(len(ids), limit, what)
            clients = await self._projection.find_by_ids(ids)
            found = {c.client_id for c in clients}
            return SelectedClients(clients, [i for i in ids if i not in found])
        assert selection.filter is not None
        query = filter_query(selection.filter)
        clients = await self._projection.find(query, limit=limit + 1)
        if len(clients) > limit:
            _check_limit(await self._projection.count(query), limit, what)
        return SelectedClients(clients, [])


def _check_limit(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise Unprocessable(
            f"A {what} shows at most {limit} clients; this selection has {count}.",
            detail={"limit": limit, "count": count},
        )


def filter_query(selection: ClientFilter) -> Document:
    query: Document = {}
    if selection.tags:
        query["tags"] = {"$all": selection.tags}
    if selection.organization and selection.organization.strip():
        query["organization_key"] = selection.organization.strip().casefold()
    if selection.session_type_ids:
        query["session_type_ids"] = {"$in": selection.session_type_ids}
    between: Document = {}
    if selection.last_session_from is not None:
        between["$gte"] = datetime.combine(selection.last_session_from, time.min, UTC)
    if selection.last_session_to is not None:
        between["$lt"] = datetime.combine(selection.last_session_to, time.min, UTC) + timedelta(
            days=1
        )
    if between:
        query["last_session_at"] = between
    if selection.marketing_consent is not None:
        # Consent is only ever assumed absent: a client whose events did not say is left out
        # of a consenting selection.
        query["marketing_consent"] = True if selection.marketing_consent else {"$ne": True}
    if selection.postal_code_prefix:
        prefix = " ".join(selection.postal_code_prefix.upper().split())
        query["postal_code"] = {"$regex": f"^{re.escape(prefix)}"}
    return query
