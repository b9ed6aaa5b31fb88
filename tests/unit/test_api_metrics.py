"""The API's metrics from run events and the store (the in-memory store; real git-less folders)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from yokeflow.core.events import (
    AgentStatus,
    BatchStart,
    CostUpdate,
    MergeDone,
    RunFinished,
    TaskComplete,
)
from yokeflow.core.plan import parse_plan
from yokeflow.testing.fake_store import FakeStore
from yokeflow.web.metrics import Metrics

PLAN = """
name: shop
epics:
  - key: db
    name: Database
    tasks:
      - {key: schema, title: Schema}
      - {key: seed, title: Seed, depends_on: [schema]}
      - {key: index, title: Index, depends_on: [schema]}
  - key: api
    name: API
    depends_on: [db]
    tasks:
      - {key: users, title: Users}
"""


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


async def test_metrics_follow_the_events_and_read_the_store(tmp_path: Path) -> None:
    store = FakeStore()
    repo = tmp_path / "repo"
    (repo / ".worktrees" / "schema").mkdir(parents=True)
    (repo / ".worktrees" / "schema" / "big.bin").write_bytes(b"x" * 200_000)
    stored = await store.create_plan(
        parse_plan(PLAN, "shop.yaml"), metadata={"repository": str(repo)}
    )
    pid = stored.project.id
    metrics = Metrics(CollectorRegistry(), concurrency=2)

    claimed = await store.claim_next_task(pid)
    assert claimed is not None
    for event in (
        BatchStart(1, ("schema",), 0.1),
        AgentStatus((("schema", "claude-haiku"),), 0, 4, 0.2),
        TaskComplete("schema", True, 1, 40.0, 0.3, None, 40.5),
        CostUpdate("schema", "claude-haiku", 0.3, 0.3, 1.5, 40.5, 2.0),
        MergeDone("schema", "merged", "c0ffee", (), 42.0),
    ):
        metrics.observe(pid, event)
    await store.complete_task(claimed.id)
    await store.record_agent_cost(
        pid, model="claude-haiku", cost_usd=0.3, input_tokens=1000, output_tokens=50
    )
    seen = _samples(await metrics.render(store))

    assert seen[("yokeflow_tasks", (("status", "done"),))] == 1
    assert seen[("yokeflow_tasks", (("status", "pending"),))] == 3
    # seed and index wait for nothing now; users waits for the whole db epic.
    assert seen[("yokeflow_queue_depth", ())] == 2
    assert seen[("yokeflow_agents_running", ())] == 1
    assert seen[("yokeflow_runs", (("phase", "Running"),))] == 1
    assert seen[("yokeflow_task_sessions_total", (("outcome", "success"),))] == 1
    assert seen[("yokeflow_task_duration_seconds_sum", (("outcome", "success"),))] == 40.0
    assert seen[("yokeflow_merge_duration_seconds_sum", ())] == 1.5
    assert seen[("yokeflow_merges_total", (("status", "merged"),))] == 1
    assert seen[("yokeflow_cost_usd_total", (("model", "claude-haiku"),))] == 0.3
    assert seen[("yokeflow_tokens_total", (("kind", "input"), ("model", "claude-haiku")))] == 1000
    assert seen[("yokeflow_budget_usd", (("project", "shop"),))] == 2.0
    assert seen[("yokeflow_budget_remaining_usd", (("project", "shop"),))] == 1.5
    assert seen[("yokeflow_run_makespan_seconds", (("project", "shop"),))] == 42.0
    assert seen[("yokeflow_run_lower_bound_seconds", (("project", "shop"),))] == 40.0
    assert seen[("yokeflow_worktree_disk_bytes", (("project", "shop"),))] >= 200_000
    assert seen[("yokeflow_build_info", (("component", "api"), ("version", "0.1.0")))] == 1
    assert not any("schema" in value for _, labels in seen for _, value in labels)

    metrics.observe(pid, RunFinished("failed", "a task failed", 50.0))
    seen = _samples(await metrics.render(store))
    assert seen[("yokeflow_runs", (("phase", "Running"),))] == 0
    assert seen[("yokeflow_runs", (("phase", "Failed"),))] == 1
    assert seen[("yokeflow_agents_running", ())] == 0
    assert seen[("yokeflow_queue_depth", ())] == 0  # nothing runs: nothing waits for a slot
    assert ("yokeflow_budget_usd", (("project", "shop"),)) not in seen
    assert seen[("yokeflow_run_makespan_seconds", (("project", "shop"),))] == 50.0
