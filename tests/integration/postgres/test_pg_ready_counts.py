"""The counts the database keeps for claims equal the truth recomputed from the rows, whatever
mix of status changes and plan edits ran at once; and the claim really reads its index.

``tasks.waiting_for`` (hard dependencies not done + dependency epics with a task not done) and
``epics.all_tasks_done`` are maintained by triggers (``0030_ready_counts.sql``). Here 40 workers
on 40 connections claim, complete, fail, retry, block, unblock, cancel, release, declare new
dependencies, replace dependencies, add tasks and epics, and change epic dependencies at random,
all at once; at quiet points and at the end every count is recomputed in Python from the task
and epic rows and compared.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits
from yokeflow.adapters.postgres.tasks import CLAIM_ONE
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.records import TaskStatus
from yokeflow.errors import (
    InvalidTransitionError,
    NotFoundError,
    PlanError,
)
from yokeflow.ports.plan_edits import NewTask
from yokeflow.testing.plans import random_plan

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.timeout(300),
    # about fifty connections: never at once with the other such tests (tests/conftest.py)
    pytest.mark.xdist_group("postgres-connections"),
]

WORKERS = 40
_EXPECTED = (InvalidTransitionError, NotFoundError, PlanError)


async def _mismatches(store: PostgresStore, project_id: int) -> list[str]:
    """Every kept count that differs from the one recomputed from the rows."""
    tasks = await store.pool.fetch(
        "SELECT id, key, epic_id, status, depends_on, dependency_type, waiting_for"
        " FROM tasks WHERE project_id = $1",
        project_id,
    )
    epics = await store.pool.fetch(
        "SELECT id, key, depends_on, all_tasks_done FROM epics WHERE project_id = $1", project_id
    )
    status = {t["id"]: t["status"] for t in tasks}
    unfinished = {e["id"]: False for e in epics}
    for t in tasks:
        if t["status"] != "done":
            unfinished[t["epic_id"]] = True
    epic_deps = {e["id"]: set(e["depends_on"]) for e in epics}
    wrong = [
        f"epic {e['key']}: all_tasks_done {e['all_tasks_done']}, truth {not unfinished[e['id']]}"
        for e in epics
        if e["all_tasks_done"] == unfinished[e["id"]]
    ]
    for t in tasks:
        hard = set(t["depends_on"]) if t["dependency_type"] == "hard" else set()
        truth = sum(1 for d in hard if d in status and status[d] != "done")
        truth += sum(1 for d in epic_deps[t["epic_id"]] if unfinished.get(d, False))
        if t["waiting_for"] != truth:
            wrong.append(
                f"task {t['key']} ({t['status']}): waiting_for {t['waiting_for']}, truth {truth}"
            )
    return wrong


async def test_counts_equal_the_truth_under_random_concurrent_changes(
    store: PostgresStore,
) -> None:
    stored = await store.create_plan(random_plan(epics=8, tasks_per_epic=40, seed=21))
    pid = stored.project.id
    edits = PostgresPlanEdits(store.pool)
    rng = random.Random(7)
    done: Counter[str] = Counter()
    stop = asyncio.Event()
    added = 0

    async def ids(status: TaskStatus | None = None) -> list[int]:
        return [t.id for t in await store.list_tasks(pid, status=status)]

    async def step(n: int) -> None:
        nonlocal added
        roll = rng.random()
        if roll < 0.35:
            task = await store.claim_next_task(pid, worker=f"w{n}")
            if task is None:
                return
            done["claim"] += 1
            await asyncio.sleep(rng.random() * 0.003)
            after = rng.random()
            if after < 0.6:
                await store.complete_task(task.id)
                done["complete"] += 1
            elif after < 0.8:
                await store.update_task_status(task.id, TaskStatus.FAILED, error="boom")
                done["fail"] += 1
            else:
                await store.update_task_status(task.id, TaskStatus.PENDING)
                done["release"] += 1
            return
        if roll < 0.45:
            batch = await store.claim_tasks(pid, rng.randint(2, 4), worker=f"w{n}")
            for task in batch:
                await store.complete_task(task.id)
            done["batch claim"] += len(batch)
            return
        status, target = rng.choice(
            [
                (TaskStatus.FAILED, TaskStatus.PENDING),  # retry
                (TaskStatus.FAILED, TaskStatus.BLOCKED),
                (TaskStatus.BLOCKED, TaskStatus.PENDING),  # re-evaluation of a blocked task
                (TaskStatus.PENDING, TaskStatus.BLOCKED),
                (TaskStatus.PENDING, TaskStatus.CANCELLED),
                (TaskStatus.CANCELLED, TaskStatus.PENDING),
                (TaskStatus.PENDING, TaskStatus.RUNNING),  # refused while waiting
            ]
        )
        if roll < 0.8:
            found = await ids(status)
            if found:
                await store.update_task_status(rng.choice(found), target, expected=status)
                done[f"{status.value}->{target.value}"] += 1
            return
        every = await ids()
        if roll < 0.86:
            running_or_pending = await ids(TaskStatus.RUNNING) + await ids(TaskStatus.PENDING)
            if running_or_pending:
                await edits.declare_dependency(
                    rng.choice(running_or_pending), rng.choice(every), reason="needs it"
                )
                done["declare dependency"] += 1
        elif roll < 0.91:
            pending = await ids(TaskStatus.PENDING)
            if pending:
                await store.set_task_dependencies(
                    rng.choice(pending),
                    rng.sample(every, 2),
                    dependency_type=rng.choice(["hard", "soft"]),
                )
                done["set dependencies"] += 1
        elif roll < 0.96:
            epics = [e for e in await store.list_epics(pid) if e.status.value != "done"]
            if epics:
                added += 1
                epic = rng.choice(epics)
                await edits.add_tasks(
                    pid,
                    epic.id,
                    [NewTask(key=f"added-{added}", title="added", depends_on=())],
                )
                done["add task"] += 1
        else:
            epics = await store.list_epics(pid)
            epic = rng.choice(epics)
            earlier = [e.id for e in epics if e.position < epic.position]
            await store.set_epic_dependencies(
                epic.id, rng.sample(earlier, min(len(earlier), rng.randint(0, 2)))
            )
            done["epic dependencies"] += 1

    async def worker(n: int) -> None:
        while not stop.is_set():
            try:
                await step(n)
            except _EXPECTED as exc:  # a deadlock (TemporaryError) is not expected: it fails
                done[type(exc).__name__] += 1
            await asyncio.sleep(0)

    for _round in range(3):
        stop.clear()
        workers = [asyncio.create_task(worker(n)) for n in range(WORKERS)]
        await asyncio.sleep(4)
        stop.set()
        await asyncio.gather(*workers)
        assert await _mismatches(store, pid) == []

    for kind in ("claim", "complete", "fail", "release", "failed->pending", "blocked->pending"):
        assert done[kind] > 0, f"{kind} never happened: {dict(done)}"

    # Finish the plan: whatever is left is retried, unblocked or claimed until all is done.
    epic_completions: Counter[int] = Counter(
        e.id for e in await store.list_epics(pid) if e.status.value == "done"
    )
    before = -1
    while left := [t for t in await store.list_tasks(pid) if t.status != TaskStatus.DONE]:
        assert len(left) != before, f"stuck: {[(t.key, t.status.value) for t in left]}"
        before = len(left)
        for t in left:
            if t.status in (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED):
                await store.update_task_status(t.id, TaskStatus.PENDING)
            elif t.status == TaskStatus.RUNNING:
                change = await store.complete_task(t.id)
                epic_completions.update([t.epic_id] if change.epic_completed else [])
        while (task := await store.claim_next_task(pid)) is not None:
            change = await store.complete_task(task.id)
            epic_completions.update([task.epic_id] if change.epic_completed else [])
    assert await _mismatches(store, pid) == []
    epics = await store.list_epics(pid)
    assert all(e.status.value == "done" for e in epics)
    nonempty = {t.epic_id for t in await store.list_tasks(pid)}
    assert set(epic_completions) == nonempty
    assert set(epic_completions.values()) == {1}


async def test_a_task_that_goes_back_to_pending_is_claimable_again_with_the_same_count(
    store: PostgresStore,
) -> None:
    plan = Plan(
        name="p",
        epics=[
            Epic(key="a", name="A", tasks=[Task(key="a1", title="a1")]),
            Epic(
                key="b",
                name="B",
                depends_on=("a",),
                tasks=[Task(key="b1", title="b1"), Task(key="b2", title="b2", depends_on=("b1",))],
            ),
        ],
    )
    stored = await store.create_plan(plan)
    pid = stored.project.id
    key = {t.key: t.id for t in stored.tasks}

    async def waiting() -> dict[str, int]:
        found = await store.pool.fetch(
            "SELECT key, waiting_for FROM tasks WHERE project_id = $1", pid
        )
        return {r["key"]: r["waiting_for"] for r in found}

    assert await waiting() == {"a1": 0, "b1": 1, "b2": 2}
    a1 = await store.claim_next_task(pid)
    assert a1 is not None
    assert a1.key == "a1"
    await store.update_task_status(a1.id, TaskStatus.FAILED, error="x")
    assert await store.claim_next_task(pid) is None  # failed is not done: b still waits
    await store.update_task_status(a1.id, TaskStatus.BLOCKED)
    await store.update_task_status(a1.id, TaskStatus.PENDING)
    assert await waiting() == {"a1": 0, "b1": 1, "b2": 2}
    again = await store.claim_next_task(pid)
    assert again is not None
    assert (again.id, again.attempts) == (a1.id, 2)
    change = await store.complete_task(a1.id)
    assert change.epic_completed
    assert await waiting() == {"a1": 0, "b1": 0, "b2": 1}
    b1 = await store.claim_next_task(pid)
    assert b1 is not None
    assert b1.id == key["b1"]
    assert await store.claim_next_task(pid) is None
    with pytest.raises(InvalidTransitionError, match=r"dependencies are done \(b1\)"):
        await store.update_task_status(key["b2"], TaskStatus.RUNNING)


async def test_the_claim_reads_the_ready_index_and_stays_cheap_half_way(
    store: PostgresStore,
) -> None:
    """EXPLAIN ANALYZE of the claim on a 4,000-task plan half done: an index scan of
    tasks_ready_idx that touches a handful of pages, not the pending tasks — in the plan made for
    the values (custom) and in the one a connection keeps after five calls (generic). And the
    connection does keep it: the claim is not planned again on every call (with ``LIMIT $3``
    it was, at this size: planning took longer than running it)."""
    stored = await store.create_plan(random_plan(epics=10, tasks_per_epic=400, seed=5))
    pid = stored.project.id
    for _ in range(40):
        batch = await store.claim_tasks(pid, 50)
        assert batch
        await asyncio.gather(*(store.complete_task(t.id) for t in batch))
    await store.pool.execute("ANALYZE tasks")
    async with store.pool.acquire() as conn:
        for mode in ("force_custom_plan", "force_generic_plan"):
            tx = conn.transaction()
            await tx.start()
            try:
                await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
                await conn.execute(f"PREPARE yf_claim (integer, text) AS {CLAIM_ONE}")
                plan: Any = await conn.fetchval(
                    f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE yf_claim ({pid}, 'w')"
                )
            finally:
                await tx.rollback()
                await conn.execute("DEALLOCATE yf_claim")
            text = f"{mode}: {plan}"
            scans = {
                (n["Node Type"], n.get("Index Name"))
                for n in _nodes(plan[0]["Plan"])
                if n.get("Relation Name") == "tasks"
            }
            assert ("Index Scan", "tasks_ready_idx") in scans, text
            assert ("Seq Scan", None) not in scans, text
            top = plan[0]["Plan"]  # buffer counts include the nodes below
            blocks = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
            assert blocks < 100, f"the claim touched {blocks} pages: {text}"
            assert top["Actual Rows"] == 1, text
        for n in range(20):
            await conn.fetch(CLAIM_ONE, pid, f"w{n}")
        kept = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            CLAIM_ONE,
        )
    assert kept is not None
    assert kept["custom_plans"] <= 5, dict(kept)
    assert kept["generic_plans"] >= 15, dict(kept)


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


async def test_epic_dependencies_that_close_a_cycle_through_tasks_are_refused(
    store: PostgresStore,
) -> None:
    plan = Plan(
        name="p",
        epics=[
            Epic(key="a", name="A", tasks=[Task(key="a1", title="a1", depends_on=("b1",))]),
            Epic(key="b", name="B", tasks=[Task(key="b1", title="b1")]),
        ],
    )
    stored = await store.create_plan(plan)
    a, b = (e.id for e in stored.epics)
    with pytest.raises(PlanError, match="would form a cycle"):
        await store.set_epic_dependencies(b, [a])
    assert (await store.set_epic_dependencies(a, [b])).depends_on == (b,)


async def test_claim_tasks_hands_out_several_in_claim_order_each_once(
    store: PostgresStore,
) -> None:
    stored = await store.create_plan(random_plan(epics=4, tasks_per_epic=30, seed=3))
    pid = stored.project.id
    assert await store.claim_tasks(pid, 0) == []
    batches = await asyncio.gather(*(store.claim_tasks(pid, 4, worker=f"w{n}") for n in range(8)))
    taken = [t.id for batch in batches for t in batch]
    assert taken
    assert len(taken) == len(set(taken))
    for batch in batches:
        order = [(t.priority, t.position, t.id) for t in batch]
        assert order == sorted(order)
        assert all(t.status == TaskStatus.RUNNING for t in batch)
    ready = {
        r["id"]
        for r in await store.pool.fetch(
            "SELECT id FROM tasks WHERE project_id = $1 AND waiting_for = 0", pid
        )
    }
    assert set(taken) <= ready
