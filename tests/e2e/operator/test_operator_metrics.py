"""The operator's ``/metrics``: ProjectRuns by phase, their tasks and budgets, its reconciles;
the exposition passes ``promtool check metrics``."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from yokeflow.testing.controlplane import Kubectl

from .conftest import OperatorProcess
from .test_invalid_manifests import cycle, valid_run, wait_for_ready_condition

pytestmark = pytest.mark.controlplane


def _scrape(
    operator: OperatorProcess,
) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    with urllib.request.urlopen(operator.metrics_url, timeout=5) as answer:
        assert answer.status == 200
        text = answer.read().decode()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def test_the_operator_exports_its_runs_and_reconciles(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    metered = valid_run("metered")
    metered["spec"]["budget"] = {"limitUsd": 5}
    broken = valid_run("metered-cycle")
    cycle(broken)
    kubectl.apply(metered, "-n", namespace)
    kubectl.apply(broken, "-n", namespace)
    phase = wait_for_ready_condition(kubectl, namespace, "metered")["status"]["phase"]
    wait_for_ready_condition(kubectl, namespace, "metered-cycle")

    deadline = time.monotonic() + 30
    while True:  # the status the reconcile wrote is remembered once the handler returned
        text, samples = _scrape(operator)
        key = frozenset({("project", f"{namespace}/metered")})
        if ("yokeflow_project_run_cost_usd", key) in samples or time.monotonic() > deadline:
            break
        time.sleep(0.3)

    assert samples[("yokeflow_project_run_cost_usd", key)] == 0.0
    assert samples[("yokeflow_budget_usd", key)] == 5.0
    assert samples[("yokeflow_budget_remaining_usd", key)] == 5.0
    assert samples[("yokeflow_project_runs", frozenset({("phase", "Failed")}))] >= 1
    assert samples[("yokeflow_project_runs", frozenset({("phase", phase)}))] >= 1
    assert samples[("yokeflow_project_run_tasks", frozenset({("state", "pending")}))] >= 3
    assert samples[("yokeflow_reconciles_total", frozenset({("result", "ok")}))] >= 2
    assert samples[("yokeflow_reconcile_duration_seconds_count", frozenset())] >= 2
    info = frozenset({("component", "operator"), ("version", "0.1.0")})
    assert samples[("yokeflow_build_info", info)] == 1
    bounded = {"phase", "state", "project", "result", "error", "version", "component", "le"}
    bounded |= {"outcome", "status"}  # the sessions and merges of runs the operator carried out
    assert {name for _, labels in samples for name, _ in labels} <= bounded  # no task labels

    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool comes with Debian's prometheus (scripts/test-services.sh)"
    )
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    kubectl.run("delete", "projectrun", "metered", "-n", namespace, "--wait=true")
    deadline = time.monotonic() + 30
    while ("yokeflow_project_run_cost_usd", key) in _scrape(operator)[1]:
        assert time.monotonic() < deadline, "a deleted run's series stayed"
        time.sleep(0.3)
