"""What the session record's pages share: workflow's path and the way back to the record."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

WORKFLOW = "/api/workflow/workflow"


def back(session_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/sessions/{session_id}{anchor}", status_code=303)
