"""Expertise per domain: list, read, validate, improve, history, and a person's edit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from yokeflow.core.expertise_markdown import render
from yokeflow.errors import NotFoundError
from yokeflow.services.learning import ExpertiseService, SaveOutcome
from yokeflow.services.runs import project_or_404
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id, WebDeps
from yokeflow.web.views import jsonable

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}/expertise",
    tags=["expertise"],
    dependencies=[Depends(require_token)],
)

Domain = Annotated[str, PathParam(min_length=1, max_length=64, description="e.g. database")]


class ExpertiseEdit(BaseModel):
    """The domain's whole markdown file, as a person edited it."""

    model_config = ConfigDict(extra="forbid")

    markdown: str = Field(max_length=1_000_000)


async def _service(deps: WebDeps, project_id: int, domain: str | None = None) -> ExpertiseService:
    project = await project_or_404(deps.store, project_id)
    if domain is not None and domain not in deps.settings.learning.domains:
        known = ", ".join(sorted(deps.settings.learning.domains))
        raise NotFoundError(f"unknown domain {domain!r} (known: {known})")
    repo = project.metadata.get("repository")
    repo_dir = Path(str(repo)) if repo else None
    if repo_dir is not None and not await asyncio.to_thread((repo_dir / ".git").exists):
        repo_dir = None
    return ExpertiseService(deps.store, deps.learning, deps.settings.learning, repo_dir=repo_dir)


def _saved(domain: str, outcome: SaveOutcome) -> dict[str, Any]:
    return {
        "domain": domain,
        "version": outcome.version,
        "summary": outcome.summary,
        "markdown": render(outcome.expertise),
        "lessons": [jsonable(lesson) for lesson in outcome.expertise.lessons],
    }


@router.get("", summary="Every domain with expertise: version, lines, lessons by kind.")
async def domains(project_id: Id, deps: Deps) -> dict[str, Any]:
    service = await _service(deps, project_id)
    return {
        "known_domains": list(deps.settings.learning.domains),
        "domains": [jsonable(d) for d in await service.domains(project_id)],
    }


@router.get("/{domain}", summary="A domain's lessons (with provenance) and its markdown.")
async def get_domain(project_id: Id, domain: Domain, deps: Deps) -> dict[str, Any]:
    service = await _service(deps, project_id, domain)
    expertise = await service.get(project_id, domain)
    row = await deps.store.get_expertise(project_id, domain)
    return {
        "domain": domain,
        "version": row.version if row else 0,
        "validated_at": jsonable(expertise.validated_at),
        "markdown": render(expertise),
        "lessons": [jsonable(lesson) for lesson in expertise.lessons],
    }


@router.put("/{domain}", summary="Replace the domain's lessons with a person's markdown.")
async def edit(project_id: Id, domain: Domain, body: ExpertiseEdit, deps: Deps) -> dict[str, Any]:
    service = await _service(deps, project_id, domain)
    return _saved(domain, await service.edit(project_id, domain, body.markdown))


@router.post("/{domain}/validate", summary="Drop missing core files, prune stale failures.")
async def validate(project_id: Id, domain: Domain, deps: Deps) -> dict[str, Any]:
    service = await _service(deps, project_id, domain)
    return _saved(domain, await service.validate_expertise(project_id, domain))


@router.post("/{domain}/improve", summary="Scan the repository for the domain's core files.")
async def improve(project_id: Id, domain: Domain, deps: Deps) -> dict[str, Any]:
    service = await _service(deps, project_id, domain)
    return _saved(domain, await service.self_improve(project_id, domain))


@router.get("/{domain}/history", summary="Every saved change of the domain, oldest first.")
async def history(project_id: Id, domain: Domain, deps: Deps) -> list[dict[str, Any]]:
    service = await _service(deps, project_id, domain)
    return [jsonable(u) for u in await service.history(project_id, domain)]
