"""The stored dependency graph: tasks and edges, batches, critical path, validation, edits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from yokeflow.core.records import DependencyType
from yokeflow.services import dependencies
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id
from yokeflow.web.views import record

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}",
    tags=["dependencies"],
    dependencies=[Depends(require_token)],
)

TaskRef = (
    Annotated[int, Field(ge=1, le=2_147_483_647)]
    | Annotated[str, StringConstraints(min_length=1, max_length=200)]
)


class DependencyChange(BaseModel):
    """A task's new dependencies (task ids or keys); they replace the old ones."""

    model_config = ConfigDict(extra="forbid")

    depends_on: list[TaskRef] = Field(default_factory=list, max_length=10_000)
    dependency_type: DependencyType = "hard"
    soft_depends_on: list[TaskRef] = Field(default_factory=list, max_length=10_000)


@router.get("/dependencies", summary="Every task's dependencies and the resolved graph.")
async def graph(project_id: Id, deps: Deps) -> dict[str, Any]:
    return await dependencies.dependency_view(deps.store, project_id)


@router.get("/dependencies/batches", summary="The parallel batches (Kahn levels).")
async def batches(project_id: Id, deps: Deps) -> dict[str, Any]:
    resolved = await dependencies.project_graph(deps.store, project_id)
    return {"batches": [list(b) for b in resolved.batches], "blocked": list(resolved.blocked)}


@router.get("/dependencies/critical-path", summary="The longest chain of hard dependencies.")
async def critical_path(project_id: Id, deps: Deps) -> dict[str, Any]:
    resolved = await dependencies.project_graph(deps.store, project_id)
    return {
        "critical_path": list(resolved.critical_path()),
        "length_minutes": resolved.critical_path_length(),
    }


@router.get("/dependencies/validate", summary="Cycles, unknown ids and blocked tasks.")
async def validate(project_id: Id, deps: Deps) -> dict[str, Any]:
    return await dependencies.validation(deps.store, project_id)


@router.post("/tasks/{task_id}/dependencies", summary="Replace a task's dependencies.")
async def set_dependencies(
    project_id: Id, task_id: Id, body: DependencyChange, deps: Deps
) -> dict[str, Any]:
    task = await dependencies.set_dependencies(
        deps.store,
        project_id,
        task_id,
        body.depends_on,
        dependency_type=body.dependency_type,
        soft_depends_on=body.soft_depends_on,
    )
    return record(task)
