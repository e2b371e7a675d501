"""The workflow hub: sessions grouped by stage and status, with counts, overdue first."""

from __future__ import annotations

from datetime import UTC, datetime

from workflow.business_days import start_of_day
from workflow.context import WorkflowContext
from workflow.hub.schemas import Hub, HubStage, HubStatus
from workflow.sessions.filters import SessionFilter
from workflow.sessions.repository import SessionRepository
from workflow.sessions.service import session_view
from workflow.statuses.schemas import STAGES
from workflow.statuses.service import StatusService


class HubService:
    def __init__(self, context: WorkflowContext) -> None:
        self._sessions = SessionRepository(context.db)
        self._statuses = StatusService(context.db)

    async def hub(self, filters: SessionFilter, *, per_status: int) -> Hub:
        query = filters.query()
        today = start_of_day(datetime.now(UTC))
        counts = await self._sessions.count_by_status(query)
        overdue = await self._sessions.count_by_status(
            {**query, "closed": False, "due_at": {"$lt": today}}
        )
        definitions = {s.id: s for s in await self._statuses.all() if s.kind == "session"}
        by_stage: dict[str, list[HubStatus]] = {stage: [] for stage in STAGES}
        for status_id, count in counts.items():
            definition = definitions.get(status_id)
            sessions = (
                await self._sessions.find({**query, "status_id": status_id}, limit=per_status)
                if per_status
                else []
            )
            stage = definition.stage if definition else "capture"
            by_stage[stage].append(
                HubStatus(
                    status_id=status_id,
                    name=definition.name if definition else status_id,
                    sort_order=definition.sort_order if definition else 0,
                    active=definition.active if definition else False,
                    count=count,
                    overdue=overdue.get(status_id, 0),
                    # Sorted by due date, so the overdue ones come first.
                    sessions=[session_view(d) for d in sessions],
                )
            )
        stages = [
            HubStage(
                stage=stage,
                count=sum(s.count for s in statuses),
                overdue=sum(s.overdue for s in statuses),
                statuses=sorted(statuses, key=lambda s: s.sort_order),
            )
            for stage, statuses in by_stage.items()
        ]
        return Hub(total=sum(counts.values()), overdue=sum(overdue.values()), stages=stages)
