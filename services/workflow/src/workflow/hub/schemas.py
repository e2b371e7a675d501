"""The workflow hub: where every session stands."""

from __future__ import annotations

from pydantic import BaseModel

from workflow.sessions.schemas import SessionWorkflow


class HubStatus(BaseModel):
    status_id: str
    name: str
    sort_order: int
    active: bool
    count: int
    overdue: int
    sessions: list[SessionWorkflow]


class HubStage(BaseModel):
    stage: str
    count: int
    overdue: int
    statuses: list[HubStatus]


class Hub(BaseModel):
    total: int
    overdue: int
    stages: list[HubStage]
