"""``/healthz`` (the process answers), ``/readyz`` (the database answers) and ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive (no authentication).")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers (no authentication).")
async def readyz(deps: Deps) -> dict[str, Any]:
    projects = await deps.store.list_projects()
    return {"status": "ready", "projects": len(projects)}


@router.get(
    "/metrics",
    summary="Prometheus metrics (prefix yokeflow_).",
    dependencies=[Depends(require_token)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(deps: Deps) -> Response:
    return Response(await deps.metrics.render(deps.store), media_type=CONTENT_TYPE_LATEST)
