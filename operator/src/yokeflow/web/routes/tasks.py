"""Epics, tasks, sessions, a session's transcript, a task's diff; retry and cancel of a task."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from yokeflow.core.records import TaskStatus
from yokeflow.services import board, review, task_actions
from yokeflow.services.runs import project_or_404
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id
from yokeflow.web.views import board_task_json, jsonable, record

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}", tags=["tasks"], dependencies=[Depends(require_token)]
)


@router.get("/epics", summary="The project's epics in plan order.")
async def list_epics(project_id: Id, deps: Deps) -> list[dict[str, Any]]:
    await project_or_404(deps.store, project_id)
    return [jsonable(e) for e in await deps.store.list_epics(project_id)]


@router.get("/tasks", summary="Every task with its board state, cost, branch and dependencies.")
async def list_tasks(
    project_id: Id,
    deps: Deps,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this status.")] = None,
) -> list[dict[str, Any]]:
    found = await board.board(deps.store, project_id)
    return [board_task_json(t) for t in found.tasks if status is None or t.task.status is status]


@router.get("/tasks/{task_id}", summary="One task, with its sessions.")
async def get_task(project_id: Id, task_id: Id, deps: Deps) -> dict[str, Any]:
    item = await board.board_task(deps.store, project_id, task_id)
    sessions = await deps.store.list_sessions(project_id, task_id=task_id)
    return {**board_task_json(item), "sessions": [jsonable(s) for s in sessions]}


@router.get("/tasks/{task_id}/diff", summary="The task branch's diff against its base.")
async def task_diff(project_id: Id, task_id: Id, deps: Deps) -> dict[str, Any]:
    return record(await review.task_diff(deps.store, deps.diffs, project_id, task_id))


@router.post("/tasks/{task_id}/retry", summary="Put a failed, blocked or cancelled task back.")
async def retry_task(
    project_id: Id,
    task_id: Id,
    deps: Deps,
    start: Annotated[
        bool, Query(description="Start a run when none is active in this process.")
    ] = True,
) -> dict[str, Any]:
    task = await task_actions.retry_task(deps.store, project_id, task_id)
    started = False
    if start and deps.runs is not None and not deps.runs.active(project_id):
        await deps.runs.start(await project_or_404(deps.store, project_id))
        started = True
    return {**jsonable(task), "run_started": started}


@router.post("/tasks/{task_id}/cancel", summary="Take a task that is not running out of the run.")
async def cancel_task(project_id: Id, task_id: Id, deps: Deps) -> dict[str, Any]:
    return record(await task_actions.cancel_task(deps.store, project_id, task_id))


@router.get("/sessions", summary="The project's agent sessions (optionally of one task).")
async def list_sessions(
    project_id: Id,
    deps: Deps,
    task_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[dict[str, Any]]:
    await project_or_404(deps.store, project_id)
    return [jsonable(s) for s in await deps.store.list_sessions(project_id, task_id=task_id)]


@router.get("/sessions/{session_id}/transcript", summary="A session's transcript, paged.")
async def transcript(
    project_id: Id,
    session_id: Id,
    deps: Deps,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    page = await review.transcript_page(
        deps.store, deps.transcripts, project_id, session_id, offset=offset, limit=limit
    )
    return record(page)
