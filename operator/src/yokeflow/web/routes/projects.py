"""Projects: list, create from a plan, get (with its status), delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from yokeflow.core.plan import Plan
from yokeflow.services import runs
from yokeflow.services.eta import eta_seconds
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id
from yokeflow.web.views import jsonable, record

__all__ = ["router"]

router = APIRouter(prefix="/api/projects", tags=["projects"], dependencies=[Depends(require_token)])


class NewProject(BaseModel):
    """A project to create from a plan (plan as code), run in a repository on this machine."""

    model_config = ConfigDict(extra="forbid")

    plan: Plan
    repository: str = Field(min_length=1, max_length=4096)
    """The git repository the agents work on (an absolute path on the API's machine)."""
    name: str | None = Field(default=None, min_length=1, max_length=200)
    """The project's name (default: the plan's)."""


@router.get("", summary="Every project with its status.")
async def list_projects(deps: Deps) -> list[dict[str, Any]]:
    out = []
    for project in await deps.store.list_projects():
        state = await runs.project_status(deps.store, project.id, deps.runs)
        out.append({**jsonable(project), "status": state.to_dict()})
    return out


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a project from a plan.")
async def create_project(body: NewProject, deps: Deps) -> dict[str, Any]:
    project = await runs.create_from_plan(deps.store, body.plan, Path(body.repository), body.name)
    return record(project)


@router.get(
    "/{project_id}", summary="A project and where it stands (what `yokeflow status` shows)."
)
async def get_project(project_id: Id, deps: Deps) -> dict[str, Any]:
    state = await runs.project_status(deps.store, project_id, deps.runs)
    eta = await eta_seconds(deps.store, project_id, deps.settings.parallel.agents)
    return {**jsonable(state.project), "status": {**state.to_dict(), "eta_seconds": eta}}


@router.delete(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a project's records (its repository and branches stay).",
)
async def delete_project(project_id: Id, deps: Deps) -> None:
    await runs.delete_project(deps.store, deps.runs, project_id)
