"""Worktrees per task, and per epic: list, merge, conflicts, resolve, remove."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict

from yokeflow.core.merging import Resolution
from yokeflow.errors import ConfigError
from yokeflow.services import epic_worktrees
from yokeflow.services.epic_worktrees import WorkspaceOpener
from yokeflow.services.runs import project_or_404
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id, WebDeps
from yokeflow.web.views import jsonable

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}/worktrees",
    tags=["worktrees"],
    dependencies=[Depends(require_token)],
)


class ResolveRequest(BaseModel):
    """How to resolve the epic's conflicts: ``ours``, ``theirs``, ``agent`` or ``manual``."""

    model_config = ConfigDict(extra="forbid")

    strategy: Resolution


def _opener(deps: WebDeps) -> WorkspaceOpener:
    if deps.workspaces is None:
        raise ConfigError("this API does not reach the projects' repositories (no workspaces)")
    return deps.workspaces


@router.get("", summary="Every worktree record of the project.")
async def list_worktrees(project_id: Id, deps: Deps) -> list[dict[str, Any]]:
    await project_or_404(deps.store, project_id)
    return [jsonable(w) for w in await deps.store.list_worktrees(project_id)]


@router.get("/{epic_id}", summary="The worktrees of an epic's tasks.")
async def epic_worktrees_(project_id: Id, epic_id: Id, deps: Deps) -> list[dict[str, Any]]:
    records = await epic_worktrees.epic_worktrees(deps.store, project_id, epic_id)
    return [jsonable(r) for r in records]


@router.post("/{epic_id}/merge", summary="Merge the epic's unmerged task worktrees.")
async def merge(project_id: Id, epic_id: Id, deps: Deps) -> list[dict[str, Any]]:
    results = await epic_worktrees.merge_epic(
        deps.store, deps.runs, _opener(deps), project_id, epic_id
    )
    return [jsonable(r) for r in results]


@router.get("/{epic_id}/conflicts", summary="The recorded conflicts of the epic's worktrees.")
async def conflicts(project_id: Id, epic_id: Id, deps: Deps) -> list[dict[str, Any]]:
    found = await epic_worktrees.epic_conflicts(deps.store, project_id, epic_id)
    return [jsonable(c) for c in found]


@router.post("/{epic_id}/resolve", summary="Resolve the epic's conflicts and merge.")
async def resolve(
    project_id: Id, epic_id: Id, body: ResolveRequest, deps: Deps
) -> list[dict[str, Any]]:
    results = await epic_worktrees.resolve_epic(
        deps.store, deps.runs, _opener(deps), project_id, epic_id, body.strategy
    )
    return [jsonable(r) for r in results]


@router.delete(
    "/{epic_id}",
    status_code=status.HTTP_200_OK,
    summary="Remove the epic's working trees (unmerged branches are kept).",
)
async def remove(project_id: Id, epic_id: Id, deps: Deps) -> dict[str, int]:
    removed = await epic_worktrees.remove_epic_worktrees(
        deps.store, deps.runs, _opener(deps), project_id, epic_id
    )
    return {"removed": removed}
