"""Model selection history, cost by task type and the cost report on real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.pricing import ModelTier
from yokeflow.core.records import TaskStatus
from yokeflow.core.task_brief import TaskBrief, brief_of
from yokeflow.services.costs import CostEstimator, ModelSelector, cost_report
from yokeflow.settings import CostSettings

pytestmark = pytest.mark.postgres

API_TASK = TaskBrief(
    "api-1",
    "Add an endpoint listing orders",
    "Implement GET /orders in app/routes/orders.py returning JSON with pagination.",
    task_type="api",
    estimate_minutes=20,
    dependency_count=1,
)


def plan() -> Plan:
    return Plan(
        name="shop",
        epics=[
            Epic(
                key="core",
                name="Core",
                priority=1,
                tasks=[
                    Task(
                        key="readme",
                        title="Fix a typo in the README",
                        type="docs",
                        estimate_minutes=2,
                    ),
                    Task(
                        key="orders-api",
                        title=API_TASK.title,
                        description=API_TASK.description,
                        type="api",
                        estimate_minutes=20,
                        depends_on=["readme"],
                    ),
                    Task(
                        key="scheduler",
                        title="Design the distributed scheduler",
                        description="Architect a concurrent scheduling algorithm with transactions and locking across the entire codebase; integrate recovery and consistency into every service.",
                        type="core",
                        estimate_minutes=240,
                        depends_on=["readme", "orders-api"],
                    ),
                ],
            )
        ],
    )


async def test_outcomes_feed_later_choices(
    store: PostgresStore, learning: PostgresLearningStore
) -> None:
    project = await store.create_project("shop")
    selector = ModelSelector(learning)
    first = await selector.choose(API_TASK)
    assert first.tier is ModelTier.SONNET
    for success in (False, False, True, False):
        await selector.record_outcome(
            project.id,
            API_TASK,
            model=first.model,
            success=success,
            cost_usd=Decimal("0.2"),
            reason=first.reason,
        )
    stats = await learning.model_outcome_stats()
    assert [(s.model, s.task_type, s.attempts, s.successes) for s in stats] == [
        ("claude-sonnet-4-5", "api", 4, 1)
    ]
    assert stats[0].cost_usd == Decimal("0.8")
    again = await selector.choose(API_TASK)
    assert (again.tier, again.source) == (ModelTier.OPUS, "history")
    # per-project history sees only that project
    other = await store.create_project("other")
    assert await learning.model_outcome_stats(other.id) == []
    assert (
        await ModelSelector(learning, history_project=other.id).choose(API_TASK)
    ).tier is ModelTier.SONNET


async def test_cost_report_by_model_task_type_and_forecast(
    store: PostgresStore, learning: PostgresLearningStore
) -> None:
    stored = await store.create_plan(plan())
    pid = stored.project.id
    tasks = {t.key: t for t in stored.tasks}
    readme = tasks["readme"]
    session = await store.start_session(pid, task_id=readme.id, model="claude-haiku-4-5")
    await store.record_agent_cost(
        pid,
        model="claude-haiku-4-5",
        cost_usd=Decimal("0.05"),
        session_id=session.id,
        task_id=readme.id,
        input_tokens=1000,
        output_tokens=100,
    )
    await store.record_agent_cost(
        pid, model="claude-sonnet-4-5", cost_usd=Decimal("0.40"), task_id=tasks["orders-api"].id
    )
    await store.record_agent_cost(
        pid, model="claude-sonnet-4-5", cost_usd=Decimal("0.01"), operation="merge"
    )
    await store.claim_next_task(pid)  # readme → running
    await store.complete_task(readme.id)

    by_type = {t.task_type: t for t in await learning.cost_by_task_type(pid)}
    assert by_type["docs"].cost_usd == Decimal("0.05")
    assert by_type["docs"].sessions == 1
    assert by_type["api"].cost_usd == Decimal("0.40")
    assert by_type[None].cost_usd == Decimal("0.01")

    estimator = CostEstimator(store, ModelSelector(learning).prices)
    measured = await estimator.measured(pid)
    assert measured[ModelTier.HAIKU] == (1, Decimal("0.05"))
    # the merge call is not a task session
    assert measured[ModelTier.SONNET] == (1, Decimal("0.40"))
    assert await estimator.estimate(pid, "claude-sonnet-4-5") == Decimal("0.40")
    report = await cost_report(store, learning, pid, CostSettings())
    assert report.total_usd == Decimal("0.46")
    assert {s.model for s in report.by_model} == {"claude-haiku-4-5", "claude-sonnet-4-5"}
    # two tasks left: the api task (Sonnet, measured) and the scheduler (Opus, typical session)
    assert [(t.tier, t.tasks, t.measured) for t in report.forecast.tiers] == [
        (ModelTier.SONNET, 1, True),
        (ModelTier.OPUS, 1, False),
    ]
    data = report.to_dict()
    assert data["total_usd"] == "0.460000"
    assert data["forecast"]["remaining_tasks"] == 2
    assert {row["task_type"] for row in data["by_task_type"]} == {"docs", "api", None}
    # a finished task is out of the forecast; briefs carry the epic priority for overrides
    remaining = [t for t in await store.list_tasks(pid) if t.status is not TaskStatus.DONE]
    assert len(remaining) == 2
    epic = (await store.list_epics(pid))[0]
    assert brief_of(remaining[0], epic).epic_priority == 1
    report = await cost_report(
        store, learning, pid, CostSettings(priority_overrides={"1": "haiku"})
    )
    assert [(t.tier, t.tasks) for t in report.forecast.tiers] == [(ModelTier.HAIKU, 2)]
    # the reservation covers the costliest session seen; the forecast uses the mean; a
    # session's cost is recorded once (a second report of the first session changes nothing)
    await store.record_agent_cost(
        pid,
        model="claude-haiku-4-5",
        cost_usd=Decimal("0.15"),
        session_id=session.id,
        task_id=readme.id,
    )
    for cost in (Decimal("0.20"), Decimal("0.05")):
        later = await store.start_session(pid, task_id=readme.id, model="claude-haiku-4-5")
        await store.record_agent_cost(
            pid,
            model="claude-haiku-4-5",
            cost_usd=cost,
            session_id=later.id,
            task_id=readme.id,
        )
    assert await estimator.highest(pid) == {
        ModelTier.HAIKU: Decimal("0.20"),
        ModelTier.SONNET: Decimal("0.40"),
    }
    assert await estimator.estimate(pid, "claude-haiku-4-5") == Decimal("0.20")
    # 0.05 + 0.20 + 0.05 over 3 sessions
    assert await estimator.expected(pid, "claude-haiku-4-5") == Decimal("0.10")
