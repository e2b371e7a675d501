"""Staff tasks and call records as the API takes and answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TaskKind = Literal["task", "call"]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TaskKind = "task"
    title: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=5000)
    due_at: datetime | None = None
    client_id: str | None = Field(default=None, max_length=200)
    session_id: str | None = Field(default=None, max_length=200)


class TaskDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What came of it: "left a voicemail", "confirmed for Tuesday".
    outcome: str = Field(default="", max_length=2000)


class Task(BaseModel):
    id: str
    kind: TaskKind
    title: str
    note: str
    due_at: datetime | None
    client_id: str | None
    client_name: str | None = None
    phone: str | None = None
    email: str | None = None
    session_id: str | None
    # The scheduled action that made it (None for a task made by hand).
    action_id: str | None = None
    rule_id: str | None = None
    created_at: datetime
    created_by: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: str | None = None


class TaskList(BaseModel):
    items: list[Task]
