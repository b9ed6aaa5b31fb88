"""A project's parallel run: start, status, cancel, and its batches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, status

from yokeflow.errors import ConfigError, NotFoundError
from yokeflow.ports.runs import RunControl
from yokeflow.services import runs
from yokeflow.services.runs import project_or_404
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id, WebDeps
from yokeflow.web.views import jsonable

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}/parallel",
    tags=["parallel"],
    dependencies=[Depends(require_token)],
)


def _runs(deps: WebDeps) -> RunControl:
    if deps.runs is None:
        raise ConfigError("this API does not start runs (start it with `yokeflow run --resume`)")
    return deps.runs


@router.post(
    "/start",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start (or resume) the project's run in the API's process.",
)
async def start(project_id: Id, deps: Deps) -> dict[str, Any]:
    project = await runs.start_run(deps.store, _runs(deps), project_id)
    return {"project_id": project.id, "started": True}


@router.get("/status", summary="Tasks by status, batches, cost, whether a run is active.")
async def run_status(project_id: Id, deps: Deps) -> dict[str, Any]:
    state = await runs.project_status(deps.store, project_id, deps.runs)
    progress = await deps.store.parallel_progress(project_id)
    return {**state.to_dict(), "progress": [jsonable(p) for p in progress]}


@router.post("/cancel", summary="Ask the project's run to stop (agents stop, work is kept).")
async def cancel(project_id: Id, deps: Deps) -> dict[str, Any]:
    here = await runs.cancel_run(deps.store, deps.runs, project_id)
    return {"project_id": project_id, "cancel_requested": True, "active_here": here}


@router.get("/batches", summary="The run's batches with their tasks counted by status.")
async def batches(project_id: Id, deps: Deps) -> list[dict[str, Any]]:
    await project_or_404(deps.store, project_id)
    progress = {p.batch_number: p for p in await deps.store.parallel_progress(project_id)}
    return [
        {**jsonable(b), "progress": jsonable(progress.get(b.batch_number))}
        for b in await deps.store.list_parallel_batches(project_id)
    ]


@router.get("/batches/{batch_num}", summary="One batch and its tasks.")
async def batch(project_id: Id, batch_num: Id, deps: Deps) -> dict[str, Any]:
    await project_or_404(deps.store, project_id)
    found = await deps.store.get_parallel_batch(project_id, batch_num)
    if found is None:
        raise NotFoundError(f"batch {batch_num} does not exist in project {project_id}")
    tasks = [await deps.store.get_task(t) for t in found.task_ids]
    return {**jsonable(found), "tasks": [jsonable(t) for t in tasks if t is not None]}
