"""The ArgoCD health check, run by a real Lua interpreter on ProjectRuns built from our models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, get_args

import lupa
import pytest
import yaml

from yokeflow.api.v1alpha1 import (
    Condition,
    ProjectRun,
    ProjectRunPhase,
    ProjectRunStatus,
    TaskCounts,
)
from yokeflow.specs.argocd import HEALTH_KEY, argocd_cm_yaml, health_lua

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EXPECTED: dict[str, str] = {
    "Pending": "Progressing",
    "Planning": "Progressing",
    "Running": "Progressing",
    "Merging": "Progressing",
    "Suspended": "Suspended",
    "Succeeded": "Healthy",
    "Failed": "Degraded",
    "Cancelled": "Degraded",
    "BudgetExhausted": "Degraded",
}


def _condition(kind: str, status: str, reason: str, message: str) -> Condition:
    return Condition.model_validate(
        {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": NOW,
        }
    )


def _run(status: ProjectRunStatus | None, *, suspend: bool = False, generation: int = 1) -> Any:
    """The object as the API server serves it (and ArgoCD hands to the check): camelCase JSON."""
    run = ProjectRun.model_validate(
        {
            "metadata": {"name": "hello", "namespace": "runs", "generation": generation},
            "spec": {
                "repository": {"url": "https://git.example.com/acme/hello.git"},
                "spec": {"text": "A greeter."},
                "suspend": suspend,
            },
            "status": status,
        }
    )
    return json.loads(run.model_dump_json(exclude_none=True))


def _health(obj: Any) -> dict[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = _to_lua(runtime, obj)
    result = runtime.execute(health_lua())
    return {"status": result["status"], "message": result["message"]}


def _to_lua(runtime: Any, value: Any) -> Any:
    """JSON as ArgoCD gives it to Lua: objects and arrays become tables (arrays 1-based)."""
    if isinstance(value, dict):
        return runtime.table_from({k: _to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([_to_lua(runtime, v) for v in value])
    return value


@pytest.mark.parametrize("phase", get_args(ProjectRunPhase))
def test_every_phase_without_conditions(phase: str) -> None:
    health = _health(_run(ProjectRunStatus(phase=phase, observed_generation=1)))
    assert health["status"] == EXPECTED[phase]
    assert health["message"]


def test_the_expectations_cover_every_phase() -> None:
    assert set(EXPECTED) == set(get_args(ProjectRunPhase))


@pytest.mark.parametrize("phase", get_args(ProjectRunPhase))
def test_every_phase_with_conditions_shows_the_telling_sentence(phase: str) -> None:
    conditions = [
        _condition("Planned", "True", "InlinePlanResolved", "3 tasks in 1 epics resolve."),
        _condition("Progressing", "True", "TasksRunning", "2 agents are working."),
        _condition("Ready", "False", "NotFinished", "The run has not finished."),
    ]
    status = ProjectRunStatus(
        phase=phase,
        observed_generation=1,
        conditions=conditions,
        progress="1/3",
        tasks=TaskCounts(total=3, succeeded=1, running=2),
    )
    health = _health(_run(status))
    assert health["status"] == EXPECTED[phase]
    assert health["message"].endswith("(tasks 1/3 done)")
    if phase in ("Planning", "Running", "Merging", "Suspended"):
        assert health["message"].startswith("2 agents are working.")
    if phase == "Pending":
        assert health["message"].startswith("The run has not finished.")


def test_a_pending_run_names_what_it_waits_for() -> None:
    status = ProjectRunStatus(
        phase="Pending",
        observed_generation=1,
        conditions=[
            _condition("Planned", "False", "SecretMissing", "Secret model-key does not exist."),
            _condition("Ready", "False", "SecretMissing", "Secret model-key does not exist."),
        ],
    )
    assert _health(_run(status)) == {
        "status": "Progressing",
        "message": "Secret model-key does not exist.",
    }


def test_missing_status_is_progressing() -> None:
    obj = _run(None)
    assert "status" not in obj
    assert _health(obj) == {
        "status": "Progressing",
        "message": "Waiting for the operator to report the run's status.",
    }


def test_a_status_for_an_older_generation_is_progressing() -> None:
    status = ProjectRunStatus(phase="Succeeded", observed_generation=1)
    assert _health(_run(status, generation=2))["status"] == "Progressing"
    assert _health(_run(status, generation=1))["status"] == "Healthy"


def test_a_status_without_observed_generation_is_judged_by_phase() -> None:
    assert _health(_run(ProjectRunStatus(phase="Failed")))["status"] == "Degraded"


def test_a_suspended_spec_on_a_running_run_is_suspended() -> None:
    status = ProjectRunStatus(
        phase="Running",
        observed_generation=1,
        conditions=[
            _condition("Progressing", "False", "Suspended", "The run is suspended; no Job starts.")
        ],
    )
    assert _health(_run(status, suspend=True)) == {
        "status": "Suspended",
        "message": "The run is suspended; no Job starts.",
    }


def test_a_suspended_spec_does_not_hide_the_end_of_a_run() -> None:
    for phase, expected in (("Succeeded", "Healthy"), ("Failed", "Degraded")):
        status = ProjectRunStatus(phase=phase, observed_generation=1)
        assert _health(_run(status, suspend=True))["status"] == expected


def test_a_degraded_condition_on_a_running_run_is_degraded() -> None:
    status = ProjectRunStatus(
        phase="Running",
        observed_generation=1,
        conditions=[_condition("Degraded", "True", "TasksFailing", "2 tasks failed for good.")],
    )
    assert _health(_run(status)) == {"status": "Degraded", "message": "2 tasks failed for good."}


def test_a_false_degraded_condition_changes_nothing() -> None:
    status = ProjectRunStatus(
        phase="Running",
        observed_generation=1,
        conditions=[_condition("Degraded", "False", "AllWell", "No task failed.")],
    )
    assert _health(_run(status))["status"] == "Progressing"


def test_budget_exhausted_says_why() -> None:
    status = ProjectRunStatus(
        phase="BudgetExhausted",
        observed_generation=1,
        conditions=[_condition("BudgetOk", "False", "LimitReached", "$25 of $25 spent.")],
    )
    assert _health(_run(status)) == {"status": "Degraded", "message": "$25 of $25 spent."}


def test_an_unknown_phase_is_unknown() -> None:
    obj = _run(ProjectRunStatus(phase="Running", observed_generation=1))
    obj["status"]["phase"] = "Exploded"
    health = _health(obj)
    assert health["status"] == "Unknown"
    assert "Exploded" in health["message"]


def test_the_argocd_cm_example_embeds_the_check_verbatim() -> None:
    config_map = yaml.safe_load(argocd_cm_yaml())
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == "argocd-cm"
    assert HEALTH_KEY == "resource.customizations.health.yokeflow.io_ProjectRun"
    assert config_map["data"][HEALTH_KEY] == health_lua()
