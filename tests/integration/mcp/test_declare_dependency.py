"""declare_dependency: a task that finds it needs an unfinished task is parked, and rescheduled
once that task is done; a dependency that would close a cycle is refused, even under races."""

from __future__ import annotations

import asyncio

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import ProjectPlan, TaskStatus
from yokeflow.errors import PlanError
from yokeflow.testing.mcp_clients import ToolCallError, call, stdio_session
from yokeflow_mcp.launch import stdio_launch

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

PLAN = """
name: parking
epics:
  - key: core
    name: Core
    tasks:
      - {key: a, title: Table}
      - {key: b, title: Report, depends_on: [{key: x, type: soft}]}
      - {key: c, title: Export, depends_on: [a]}
      - {key: x, title: Extra}
  - key: late
    name: Late
    depends_on: [core]
    tasks:
      - {key: z, title: Last}
"""


@pytest.fixture
async def parking(store: PostgresStore) -> ProjectPlan:
    return await store.create_plan(parse_plan(PLAN, "parking"))


async def test_a_parked_task_waits_for_its_new_dependency_and_then_runs_again(
    pg_database_url: str, store: PostgresStore, parking: ProjectPlan
) -> None:
    ids = parking.task_ids
    await store.update_task_status(ids["b"], TaskStatus.RUNNING)
    launch = stdio_launch("parking", "b", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        parked = await call(session, "declare_dependency", depends_on="a", reason="needs a's table")
        assert parked["parked"] is True
        assert parked["previous"] == "running"
        assert parked["task"]["status"] == "pending"
        assert parked["task"]["depends_on"] == ["a"]
        assert parked["task"]["soft_depends_on"] == ["x"]  # kept
        assert "stop working" in parked["message"]
        # Parked again behind the same task: nothing new, still one dependency.
        again = await call(session, "declare_dependency", depends_on="a", reason="still")
        assert again["task"]["depends_on"] == ["a"]
        # Another project's view is not reachable, and a done dependency needs no parking.
    b = await store.get_task(ids["b"])
    assert b is not None
    assert b.status == TaskStatus.PENDING
    assert b.claimed_by is None
    assert b.last_error == "waiting for a: still"

    # b is not handed out while a is unfinished; a (then x) are.
    first = await store.claim_next_task(parking.project.id, worker="w")
    assert first is not None
    assert first.key == "a"
    second = await store.claim_next_task(parking.project.id, worker="w")
    assert second is not None
    assert second.key == "x"
    assert await store.claim_next_task(parking.project.id, worker="w") is None
    await store.complete_task(ids["a"])
    rescheduled = await store.claim_next_task(parking.project.id, worker="w")
    assert rescheduled is not None
    assert rescheduled.key == "b"
    assert rescheduled.attempts == 2

    async with stdio_session(launch) as session:
        nothing = await call(session, "declare_dependency", depends_on="a", reason="again")
        assert nothing["parked"] is False
        assert "already done" in nothing["message"]
        with pytest.raises(ToolCallError, match="cannot depend on itself"):
            await call(session, "declare_dependency", depends_on="b", reason="me")
        await call(session, "update_task_status", status="done")
        # A done task cannot declare anything any more.
        with pytest.raises(ToolCallError, match="only a running or pending task"):
            await call(session, "declare_dependency", depends_on="c", reason="late")


async def test_a_cycle_through_epic_dependencies_is_refused(
    store: PostgresStore, parking: ProjectPlan
) -> None:
    edits = PostgresPlanEdits(store.pool)
    ids = parking.task_ids
    await store.update_task_status(ids["a"], TaskStatus.RUNNING)
    # Epic late depends on epic core: a (in core) waiting for z (in late) closes a loop.
    with pytest.raises(PlanError, match="cycle"):
        await edits.declare_dependency(ids["a"], ids["z"], reason="x")
    a = await store.get_task(ids["a"])
    assert a is not None
    assert a.status == TaskStatus.RUNNING
    assert a.depends_on == ()


async def test_two_declarations_racing_to_close_a_cycle_cannot_both_win(
    store: PostgresStore,
) -> None:
    pairs = 15
    text = "name: racing\nepics:\n  - key: e\n    name: E\n    tasks:\n" + "".join(
        f"      - {{key: p{i}, title: P{i}}}\n      - {{key: q{i}, title: Q{i}}}\n"
        for i in range(pairs)
    )
    plan = await store.create_plan(parse_plan(text, "racing"))
    ids = plan.task_ids
    for task_id in ids.values():
        await store.update_task_status(task_id, TaskStatus.RUNNING)
    edits = PostgresPlanEdits(store.pool)
    outcomes = await asyncio.gather(
        *(
            edits.declare_dependency(ids[f"{a}{i}"], ids[f"{b}{i}"], reason="race")
            for i in range(pairs)
            for a, b in (("p", "q"), ("q", "p"))
        ),
        return_exceptions=True,
    )
    for i in range(pairs):
        pq, qp = outcomes[2 * i], outcomes[2 * i + 1]
        won = [o for o in (pq, qp) if not isinstance(o, BaseException)]
        lost = [o for o in (pq, qp) if isinstance(o, BaseException)]
        assert len(won) == 1, (pq, qp)
        assert len(lost) == 1
        assert isinstance(lost[0], PlanError)
        assert "cycle" in str(lost[0])
    tasks = {t.key: t for t in await store.list_tasks(plan.project.id)}
    for i in range(pairs):
        p, q = tasks[f"p{i}"], tasks[f"q{i}"]
        assert (p.depends_on == (q.id,)) != (q.depends_on == (p.id,))
