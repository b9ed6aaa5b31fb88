"""The alert rules: valid for promtool, unit-tested firing and quiet, and about real metrics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from yokeflow.testing.metric_names import exported_names, yokeflow_names_in

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "charts/yokeflow/rules/yokeflow.rules.yaml"
UNIT_TESTS = Path(__file__).with_name("yokeflow.rules.test.yaml")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool comes with Debian's prometheus (scripts/test-services.sh)"
    )
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, check=False, timeout=120
    )


def _alerts() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def test_promtool_checks_the_rules() -> None:
    checked = _promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in checked.stdout


def test_promtool_unit_tests_pass() -> None:
    tested = _promtool("test", "rules", str(UNIT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = set(_alerts())
    assert {
        "YokeFlowOperatorDown",
        "YokeFlowBudgetNearlyExhausted",
        "YokeFlowRunStuck",
        "YokeFlowTasksFailing",
        "YokeFlowMergeConflictsRising",
    } <= alerts
    assert alerts - firing == set(), "alerts never seen firing"
    assert alerts - quiet == set(), "alerts never seen quiet"


@pytest.mark.parametrize("alert", sorted(_alerts()))
def test_rules_use_only_exported_metrics(alert: str) -> None:
    used = yokeflow_names_in(_alerts()[alert])
    assert used, f"{alert} is about no YokeFlow metric"
    assert used <= exported_names(), f"{alert} uses unknown metrics: {used - exported_names()}"


def test_the_unit_tests_feed_only_exported_metrics() -> None:
    series = [
        s["series"]
        for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
        for s in case["input_series"]
    ]
    fed = set().union(*(yokeflow_names_in(s) for s in series))
    assert fed <= exported_names(), fed - exported_names()
