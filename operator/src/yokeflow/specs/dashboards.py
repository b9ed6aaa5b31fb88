"""YokeFlow's Grafana dashboards, built with grafana-foundation-sdk (pure: no I/O).

``yokeflow generate`` writes them to ``charts/yokeflow/dashboards/`` (the chart ships them as
ConfigMaps for Grafana's dashboard sidecar). Every panel is a :class:`PanelSpec` — its PromQL
in one place — so tests can hand each query to a real Prometheus, and check that it names only
metrics the code exports. Queries may use Grafana's ``$__rate_interval``, the ``$datasource``
and ``$project`` variables (:data:`VARIABLES` says what a test substitutes for them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableHide

__all__ = [
    "DASHBOARDS",
    "VARIABLES",
    "DashboardSpec",
    "PanelSpec",
    "Query",
    "dashboard_files",
]

VARIABLES = {"$__rate_interval": "1m", "$project": ".*"}
"""Grafana's variables in the queries, and a value each that Prometheus accepts on its own."""

_DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
_PROJECT = '{project=~"$project"}'


@dataclass(frozen=True, slots=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """One panel: what it shows (``queries``), how (``kind``, ``unit``) and how wide (of 24)."""

    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: Literal["timeseries", "stat"] = "timeseries"
    width: int = 12
    stacked: bool = False


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]
    per_project: bool = False
    """Offer a ``$project`` variable (the runs' ``project`` label)."""

    @property
    def panels(self) -> tuple[PanelSpec, ...]:
        return tuple(panel for _, panels in self.rows for panel in panels)


def _q(expr: str, legend: str = "") -> tuple[Query, ...]:
    return (Query(expr, legend),)


def _quantiles(metric: str) -> tuple[Query, ...]:
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[$__rate_interval])))",
            f"p{int(q * 100)}",
        )
        for q in (0.5, 0.9, 0.99)
    )


RUNS = DashboardSpec(
    uid="yokeflow-runs",
    title="YokeFlow / Runs",
    description="Progress, cost, budget, concurrency, durations, scheduling efficiency and disk use "
    "of YokeFlow runs (the API's metrics).",
    per_project=True,
    rows=(
        (
            "Run progress",
            (
                PanelSpec(
                    "Tasks done",
                    "Tasks done of all tasks in the database.",
                    _q('sum(yokeflow_tasks{status="done"}) / sum(yokeflow_tasks)'),
                    unit="percentunit",
                    kind="stat",
                    width=6,
                ),
                PanelSpec(
                    "Runs by phase",
                    "Projects by the phase of their latest run in the API's process.",
                    _q("sum by (phase) (yokeflow_runs)", "{{phase}}"),
                    kind="stat",
                    width=18,
                ),
                PanelSpec(
                    "Tasks by status",
                    "Tasks of every project by status (read from the database).",
                    _q("sum by (status) (yokeflow_tasks)", "{{status}}"),
                    stacked=True,
                ),
                PanelSpec(
                    "Agent sessions and merges",
                    "Sessions that ended, by outcome, and merge attempts, by result.",
                    (
                        Query(
                            "sum by (outcome) (increase(yokeflow_task_sessions_total[$__rate_interval]))",
                            "session {{outcome}}",
                        ),
                        Query(
                            "sum by (status) (increase(yokeflow_merges_total[$__rate_interval]))",
                            "merge {{status}}",
                        ),
                    ),
                ),
            ),
        ),
        (
            "Cost and tokens",
            (
                PanelSpec(
                    "Spent",
                    "Dollars spent by all agents.",
                    _q("sum(yokeflow_cost_usd_total)"),
                    unit="currencyUSD",
                    kind="stat",
                    width=6,
                ),
                PanelSpec(
                    "Cost by model",
                    "Dollars spent so far, by model.",
                    _q("sum by (model) (yokeflow_cost_usd_total)", "{{model}}"),
                    unit="currencyUSD",
                    width=9,
                    stacked=True,
                ),
                PanelSpec(
                    "Tokens by model",
                    "Tokens per second, by model and kind.",
                    _q(
                        "sum by (model, kind) (rate(yokeflow_tokens_total[$__rate_interval]))",
                        "{{model}} {{kind}}",
                    ),
                    width=9,
                ),
            ),
        ),
        (
            "Budget",
            (
                PanelSpec(
                    "Budget left",
                    "Dollars left of each running run's budget.",
                    _q(f"yokeflow_budget_remaining_usd{_PROJECT}", "{{project}}"),
                    unit="currencyUSD",
                ),
                PanelSpec(
                    "Budget used",
                    "Share of each running run's budget spent.",
                    _q(
                        f"1 - yokeflow_budget_remaining_usd{_PROJECT} / "
                        f"(yokeflow_budget_usd{_PROJECT} > 0)",
                        "{{project}}",
                    ),
                    unit="percentunit",
                ),
            ),
        ),
        (
            "Agents and queue",
            (
                PanelSpec(
                    "Agent concurrency and queue depth",
                    "Agents running, and ready tasks waiting for an agent slot.",
                    (
                        Query("sum(yokeflow_agents_running)", "agents running"),
                        Query("sum(yokeflow_queue_depth)", "ready tasks waiting"),
                    ),
                    width=16,
                ),
                PanelSpec(
                    "Batches started",
                    "Scheduling rounds that launched tasks.",
                    _q("sum(increase(yokeflow_batches_started_total[$__rate_interval]))"),
                    width=8,
                ),
            ),
        ),
        (
            "Durations",
            (
                PanelSpec(
                    "Task duration",
                    "Agent session length quantiles.",
                    _quantiles("yokeflow_task_duration_seconds"),
                    unit="s",
                ),
                PanelSpec(
                    "Merge duration",
                    "From a task's session end to its merge result (merge queue wait included).",
                    _quantiles("yokeflow_merge_duration_seconds"),
                    unit="s",
                ),
            ),
        ),
        (
            "Scheduling efficiency",
            (
                PanelSpec(
                    "Makespan and lower bound",
                    "Each run's wall time against the least time any schedule needed.",
                    (
                        Query(f"yokeflow_run_makespan_seconds{_PROJECT}", "{{project}} makespan"),
                        Query(
                            f"yokeflow_run_lower_bound_seconds{_PROJECT}",
                            "{{project}} lower bound",
                        ),
                    ),
                    unit="s",
                ),
                PanelSpec(
                    "Makespan / lower bound",
                    "1.0 is a perfect schedule; higher is time lost to scheduling and merging.",
                    _q(
                        f"yokeflow_run_makespan_seconds{_PROJECT} / "
                        f"(yokeflow_run_lower_bound_seconds{_PROJECT} > 0)",
                        "{{project}}",
                    ),
                ),
            ),
        ),
        (
            "Worktrees",
            (
                PanelSpec(
                    "Worktree disk use",
                    "Disk used by each project's task worktrees on the API's machine.",
                    _q(f"yokeflow_worktree_disk_bytes{_PROJECT}", "{{project}}"),
                    unit="bytes",
                    width=24,
                ),
            ),
        ),
    ),
)

OPERATOR = DashboardSpec(
    uid="yokeflow-operator",
    title="YokeFlow / Operator",
    description="ProjectRuns, their tasks and budgets, and the operator's reconciles.",
    rows=(
        (
            "ProjectRuns",
            (
                PanelSpec(
                    "Operator up",
                    "Operators answering the scrape.",
                    _q('sum(yokeflow_build_info{component="operator"})'),
                    kind="stat",
                    width=6,
                ),
                PanelSpec(
                    "ProjectRuns by phase",
                    "ProjectRuns by status.phase.",
                    _q("sum by (phase) (yokeflow_project_runs)", "{{phase}}"),
                    kind="stat",
                    width=18,
                ),
                PanelSpec(
                    "Tasks by state",
                    "Tasks of every ProjectRun by state.",
                    _q("sum by (state) (yokeflow_project_run_tasks)", "{{state}}"),
                    stacked=True,
                ),
                PanelSpec(
                    "Running and queued tasks",
                    "Agents running, and ready tasks waiting for a slot, over all ProjectRuns.",
                    (
                        Query('sum(yokeflow_project_run_tasks{state="running"})', "running"),
                        Query('sum(yokeflow_project_run_tasks{state="queued"})', "queued"),
                    ),
                ),
                PanelSpec(
                    "Cost by ProjectRun",
                    "Dollars each ProjectRun has spent.",
                    _q("sum by (project) (yokeflow_project_run_cost_usd)", "{{project}}"),
                    unit="currencyUSD",
                ),
                PanelSpec(
                    "Budget left",
                    "Dollars left of each unfinished ProjectRun's budget.",
                    _q("sum by (project) (yokeflow_budget_remaining_usd)", "{{project}}"),
                    unit="currencyUSD",
                ),
            ),
        ),
        (
            "Reconciles",
            (
                PanelSpec(
                    "Reconciles by result",
                    "Reconciles per second by result.",
                    _q(
                        "sum by (result) (rate(yokeflow_reconciles_total[$__rate_interval]))",
                        "{{result}}",
                    ),
                    unit="reqps",
                    width=8,
                ),
                PanelSpec(
                    "Reconcile errors",
                    "Reconciles that raised, by error class.",
                    _q(
                        "sum by (error) (increase(yokeflow_reconcile_errors_total[$__rate_interval]))",
                        "{{error}}",
                    ),
                    width=8,
                ),
                PanelSpec(
                    "Reconcile duration",
                    "Reconcile length quantiles.",
                    _quantiles("yokeflow_reconcile_duration_seconds"),
                    unit="s",
                    width=8,
                ),
            ),
        ),
    ),
)

DASHBOARDS = (RUNS, OPERATOR)


def _panel(spec: PanelSpec, panel_id: int) -> timeseries.Panel | stat.Panel:
    panel: timeseries.Panel | stat.Panel
    if spec.kind == "stat":
        last = common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
        panel = stat.Panel().graph_mode(common.BigValueGraphMode.AREA).reduce_options(last)
    else:
        legend = (
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        panel = timeseries.Panel().legend(legend).fill_opacity(10)
        if spec.stacked:
            panel = panel.stacking(
                common_builders.StackingConfig().mode(common.StackingMode.NORMAL)
            )
    panel = (
        panel.id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .datasource(_DATASOURCE)
        .unit(spec.unit)
        .span(spec.width)
        .height(8)
    )
    for ref, query in zip("ABCDEFGH", spec.queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(_DATASOURCE)
        panel = panel.with_target(target.legend_format(query.legend) if query.legend else target)
    return panel


def _dashboard(spec: DashboardSpec) -> dashboard_builders.Dashboard:
    board = (
        dashboard_builders.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["yokeflow"])
        .editable()
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(
            dashboard_builders.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
        )
    )
    if spec.per_project:
        board = board.with_variable(
            dashboard_builders.QueryVariable("project")
            .label("Project")
            .datasource(_DATASOURCE)
            .query("label_values(yokeflow_run_makespan_seconds, project)")
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .hide(VariableHide.DONT_HIDE)
        )
    ids = iter(range(1, 1000))
    for title, panels in spec.rows:
        board = board.with_row(dashboard_builders.Row(title).id(next(ids)))
        for panel in panels:
            board = board.with_panel(_panel(panel, next(ids)))
    return board


def dashboard_files(specs: Sequence[DashboardSpec] = DASHBOARDS) -> dict[str, str]:
    """Repository-relative path → the dashboard's JSON (what Grafana imports)."""
    return {
        f"charts/yokeflow/dashboards/{spec.uid}.json": json.dumps(
            _dashboard(spec).build(), cls=JSONEncoder, indent=2, sort_keys=True
        )
        + "\n"
        for spec in specs
    }
