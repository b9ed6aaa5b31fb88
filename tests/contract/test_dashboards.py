"""The generated Grafana dashboards: the panels the operators of a cluster need, each about
metrics the code exports, laid out on Grafana's 24-column grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yokeflow.specs.dashboards import DASHBOARDS, dashboard_files
from yokeflow.testing.metric_names import exported_names, yokeflow_names_in

ROOT = Path(__file__).resolve().parents[2]


def test_the_runs_dashboard_covers_what_a_run_needs_watched() -> None:
    titles = {panel.title for spec in DASHBOARDS for panel in spec.panels}
    assert {
        "Tasks by status",
        "Runs by phase",
        "Cost by model",
        "Tokens by model",
        "Budget left",
        "Agent concurrency and queue depth",
        "Task duration",
        "Merge duration",
        "Makespan / lower bound",
        "Worktree disk use",
        "ProjectRuns by phase",
        "Reconcile errors",
    } <= titles


@pytest.mark.parametrize("spec", DASHBOARDS, ids=lambda s: s.uid)
def test_every_query_is_about_exported_metrics(spec) -> None:  # type: ignore[no-untyped-def]
    exported = exported_names()
    for panel in spec.panels:
        assert panel.queries, panel.title
        for query in panel.queries:
            used = yokeflow_names_in(query.expr)
            assert used, f"{panel.title}: {query.expr} is about no YokeFlow metric"
            assert used <= exported, f"{panel.title}: unknown {used - exported}"


@pytest.mark.parametrize("path", sorted(dashboard_files()))
def test_the_files_are_grafana_dashboards(path: str) -> None:
    board = json.loads((ROOT / path).read_text())
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(
        0 < p["gridPos"]["w"] <= 24 and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels
    )
    assert board["uid"] == Path(path).stem
    assert board["templating"]["list"][0] == board["templating"]["list"][0] | {
        "name": "datasource",
        "type": "datasource",
        "query": "prometheus",
    }
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
