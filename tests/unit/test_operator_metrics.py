"""The operator's metrics: passes over ProjectRuns, the engine's events of the runs it carries
out, and a deleted run's series going."""

from __future__ import annotations

from typing import Any

import kopf
from prometheus_client.parser import text_string_to_metric_families

from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.core.events import BatchStart, MergeDone, TaskComplete
from yokeflow.errors import PermanentError


def _samples(metrics: OperatorMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }


def _body(name: str, limit: float | None = None) -> dict[str, Any]:
    spec = {"budget": {"limitUsd": limit}} if limit is not None else {}
    return {"metadata": {"name": name, "namespace": "team"}, "spec": spec}


async def test_passes_events_and_deletions() -> None:
    metrics = OperatorMetrics()
    running = {"phase": "Running", "costUsd": "2.5", "tasks": {"running": 2, "queued": 3}}
    metrics.passed(_body("shop", 10), running, 0.05)
    metrics.passed(_body("blog"), {"phase": "Succeeded", "tasks": {"succeeded": 4}}, 0.01)
    metrics.passed(_body("bad"), {}, 0.01, PermanentError("the plan cannot be read"))
    for event in (
        BatchStart(1, ("a", "b"), 0.1),
        TaskComplete("a", True, 1, 30.0, 0.4, None, 30.0),
        TaskComplete("b", False, 1, 12.0, 0.1, "tests failed", 12.5),
        MergeDone("a", "conflict", None, ("app.py",), 31.0),
        MergeDone("a", "merged", "c0ffee", (), 40.0),
    ):
        metrics.follow("team/shop", event)
    seen = _samples(metrics)

    def at(name: str, **labels: str) -> float:
        return seen[(name, frozenset(labels.items()))]

    assert at("yokeflow_project_runs", phase="Running") == 1
    assert at("yokeflow_project_runs", phase="Succeeded") == 1
    assert at("yokeflow_project_run_tasks", state="queued") == 3
    assert at("yokeflow_agents_running") == 2
    assert at("yokeflow_queue_depth") == 3
    assert at("yokeflow_budget_usd", project="team/shop") == 10
    assert at("yokeflow_budget_remaining_usd", project="team/shop") == 7.5
    assert ("yokeflow_budget_usd", frozenset({("project", "team/blog")})) not in seen
    assert at("yokeflow_reconciles_total", result="ok") == 2
    assert at("yokeflow_reconciles_total", result="permanent_error") == 1
    assert at("yokeflow_reconcile_errors_total", error="PermanentError") == 1
    assert at("yokeflow_reconcile_duration_seconds_count") == 3
    assert at("yokeflow_task_sessions_total", outcome="failure") == 1
    assert at("yokeflow_task_duration_seconds_sum", outcome="success") == 30.0
    assert at("yokeflow_merges_total", status="conflict") == 1
    assert at("yokeflow_merge_duration_seconds_sum") == 1.0  # timed to the first merge result
    assert at("yokeflow_batches_started_total") == 1

    async def deleted(**_: Any) -> None:
        return None

    await metrics.forgotten(deleted)(body=kopf.Body(_body("shop")))
    seen = _samples(metrics)
    assert ("yokeflow_project_run_cost_usd", frozenset({("project", "team/shop")})) not in seen
    assert ("yokeflow_project_runs", frozenset({("phase", "Running")})) not in seen
    assert seen[("yokeflow_project_runs", frozenset({("phase", "Succeeded")}))] == 1
