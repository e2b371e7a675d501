"""The usage report: look-ups per month."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MonthUsage(BaseModel):
    month: str = Field(description="YYYY-MM, UTC")
    location_lookups: int = Field(description="Addresses the cache did not know.")
    map_lookups: int = Field(description="Maps drawn.")


class UsageReport(BaseModel):
    since: str
    until: str
    months: list[MonthUsage]
    location_lookups: int
    map_lookups: int
