"""The studio's own settings: name, phone, currency, the cut-off of clients' links and the
deposit policy on a client's cancellation.

One document (`studio_settings`, `_id: "studio"`), versioned: a change names the version it
was made from, and a change made meanwhile answers 409. Until the owner saves them the
defaults below apply (version 0).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from booking.scheduling import schemas
from booking.scheduling.calendar import GRANULE_MINUTES
from kit.errors import Conflict, Forbidden
from kit.mongo import Document

COLLECTION = "studio_settings"
SETTINGS_ID = "studio"
DEFAULTS: dict[str, Any] = {
    "studio_name": None,
    "studio_phone": None,
    "currency": "usd",
    "change_cutoff_hours": 24,
    "deposit_policy": {"kind": "keep", "days": None},
    "version": 0,
    "updated_at": None,
    "updated_by": None,
}


class StudioSettingsRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._settings = db[COLLECTION]

    async def get(self) -> Document | None:
        return await self._settings.find_one({"_id": SETTINGS_ID})

    async def save(self, fields: Document, *, from_version: int) -> Document | None:
        """Write `fields` as version `from_version + 1`; None if another change came first."""
        if from_version == 0:
            try:
                document = {"_id": SETTINGS_ID, **fields, "version": 1}
                await self._settings.insert_one(document)
            except DuplicateKeyError:
                return None
            return document
        return await self._settings.find_one_and_update(
            {"_id": SETTINGS_ID, "version": from_version},
            {"$set": fields, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )


class StudioSettingsService:
    def __init__(self, repository: StudioSettingsRepository, *, timezone: str) -> None:
        self.repo = repository
        self.timezone = timezone

    async def current(self) -> schemas.SchedulingSettings:
        stored = await self.repo.get() or {}
        fields = {**DEFAULTS, **{k: v for k, v in stored.items() if k != "_id"}}
        return schemas.SchedulingSettings(
            timezone=self.timezone, granule_minutes=GRANULE_MINUTES, **fields
        )

    async def change(
        self, data: schemas.StudioSettingsIn, *, by: str | None, role: str | None
    ) -> schemas.SchedulingSettings:
        """The owner's change (the role the gateway states); 403 for anyone else, 409 if
        saved meanwhile. The gateway's policy lets staff through to booking, so the owner
        rule is kept here."""
        if role != "owner":
            raise Forbidden("Only the owner changes the studio's settings.")
        current = await self.current()
        if data.version != current.version:
            raise Conflict(
                "The studio's settings changed since you loaded them.",
                detail={"version": current.version},
            )
        fields = {
            **data.model_dump(exclude={"version"}),
            "updated_at": _now(),
            "updated_by": by,
        }
        if await self.repo.save(fields, from_version=data.version) is None:
            raise Conflict(
                "The studio's settings changed since you loaded them.",
                detail={"version": (await self.current()).version},
            )
        return await self.current()


def _now() -> datetime:
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)
