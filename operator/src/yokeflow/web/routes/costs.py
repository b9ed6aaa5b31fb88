"""Costs: spend by model and task type, the forecast of the rest, model statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from yokeflow.services.costs import CostReport, cost_report
from yokeflow.services.runs import project_or_404
from yokeflow.web.auth import require_token
from yokeflow.web.deps import Deps, Id, WebDeps

__all__ = ["router"]

router = APIRouter(
    prefix="/api/projects/{project_id}", tags=["costs"], dependencies=[Depends(require_token)]
)


async def _report(deps: WebDeps, project_id: int) -> CostReport:
    await project_or_404(deps.store, project_id)
    return await cost_report(deps.store, deps.learning, project_id, deps.settings.cost)


@router.get("/costs", summary="Spend by model and task type, success rates, forecast.")
async def costs(project_id: Id, deps: Deps) -> dict[str, Any]:
    report = await _report(deps, project_id)
    budget = deps.settings.cost.budget_limit_usd
    return {**report.to_dict(), "budget_limit_usd": None if budget is None else str(budget)}


@router.get("/costs/forecast", summary="What the remaining tasks are expected to cost.")
async def forecast(project_id: Id, deps: Deps) -> dict[str, Any]:
    data: dict[str, Any] = (await _report(deps, project_id)).to_dict()["forecast"]
    return data


@router.get("/model-stats", summary="Per model: sessions, tokens, cost, success rates.")
async def model_stats(project_id: Id, deps: Deps) -> dict[str, Any]:
    data = (await _report(deps, project_id)).to_dict()
    return {"by_model": data["by_model"], "success_rates": data["success_rates"]}
