"""The PostgreSQL store, operation by operation, on a real server (PostgreSQL 18 and 15)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.plan import Plan, parse_plan
from yokeflow.core.records import (
    BatchStatus,
    EpicStatus,
    SessionStatus,
    TaskStatus,
    TestStatus,
)
from yokeflow.core.worktree import ConflictFile, WorktreeStatus
from yokeflow.errors import AlreadyExistsError, InvalidTransitionError, NotFoundError, PlanError

pytestmark = pytest.mark.postgres

PLAN = """
name: shop
description: a small shop
epics:
  - key: db
    name: Database
    tasks:
      - {key: schema, title: Create the schema}
      - {key: seed, title: Seed data, depends_on: [schema]}
  - key: api
    name: API
    depends_on: [db]
    tasks:
      - {key: users, title: Users endpoint}
      - key: orders
        title: Orders endpoint
        depends_on: [users, {key: seed, type: soft}]
  - key: ui
    name: UI
    tasks:
      - {key: page, title: Landing page, depends_on: [orders], dependency_type: soft}
"""


def shop() -> Plan:
    return parse_plan(PLAN, "shop.yaml")


async def test_create_plan_maps_keys_to_ids(store: PostgresStore) -> None:
    stored = await store.create_plan(shop(), spec="build a shop", metadata={"repo": "/r"})
    ids, epic_ids = stored.task_ids, stored.epic_ids
    assert stored.project.name == "shop"
    assert stored.project.metadata == {"repo": "/r"}
    assert [e.key for e in stored.epics] == ["db", "api", "ui"]
    assert [t.key for t in stored.tasks] == ["schema", "seed", "users", "orders", "page"]
    by_key = {t.key: t for t in stored.tasks}
    assert by_key["seed"].depends_on == (ids["schema"],)
    assert by_key["seed"].dependency_type == "hard"
    assert by_key["orders"].hard_dependencies == (ids["users"],)
    assert by_key["orders"].soft_dependencies == (ids["seed"],)
    assert by_key["page"].dependency_type == "soft"
    assert by_key["page"].hard_dependencies == ()
    assert by_key["page"].soft_dependencies == (ids["orders"],)
    api = next(e for e in stored.epics if e.key == "api")
    assert api.depends_on == (epic_ids["db"],)
    assert by_key["users"].epic_id == epic_ids["api"]
    deps = await store.get_task_dependencies(ids["orders"])
    assert {t.key for t in deps} == {"users", "seed"}
    assert [t.key for t in await store.get_tasks_with_dependencies(stored.project.id)] == [
        "schema",
        "seed",
        "users",
        "orders",
        "page",
    ]


async def test_create_plan_refuses_a_cycle_and_stores_nothing(store: PostgresStore) -> None:
    plan = parse_plan(
        "name: loop\nepics:\n  - key: e\n    name: E\n    tasks:\n"
        "      - {key: a, title: A, depends_on: [b]}\n      - {key: b, title: B, depends_on: [a]}\n",
        "loop.yaml",
    )
    with pytest.raises(PlanError, match="cycle"):
        await store.create_plan(plan)
    assert await store.list_projects() == []


async def test_claims_follow_hard_task_and_epic_dependencies(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    # Ready: schema (no deps) and page (soft deps only); users waits for the whole db epic.
    first = await store.claim_next_task(pid, worker="w1")
    second = await store.claim_next_task(pid, worker="w2")
    assert first is not None
    assert second is not None
    assert {first.key, second.key} == {"schema", "page"}
    assert first.status == TaskStatus.RUNNING
    assert first.attempts == 1
    assert await store.claim_next_task(pid) is None
    await store.complete_task(ids["schema"])
    seed = await store.claim_next_task(pid)
    assert seed is not None
    assert seed.key == "seed"
    assert await store.claim_next_task(pid) is None  # users waits for every task of epic db
    change = await store.complete_task(ids["seed"])
    assert change.epic_completed
    assert change.previous == TaskStatus.RUNNING
    epics = {e.key: e for e in await store.list_epics(pid)}
    assert epics["db"].status == EpicStatus.DONE
    assert epics["db"].completed_at is not None
    assert epics["api"].status == EpicStatus.PENDING
    users = await store.claim_next_task(pid)
    assert users is not None
    assert users.key == "users"
    assert (await store.get_epic(epics["api"].id)).status == EpicStatus.RUNNING  # type: ignore[union-attr]
    counts = await store.task_counts(pid)
    assert counts[TaskStatus.DONE] == 2
    assert counts[TaskStatus.RUNNING] == 2
    assert counts[TaskStatus.PENDING] == 1


async def test_complete_and_claim_hands_out_what_the_completion_made_ready(
    store: PostgresStore,
) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    schema = await store.claim_next_task(pid, worker="w1")
    assert schema is not None
    assert schema.key == "schema"
    with pytest.raises(InvalidTransitionError, match="pending"):
        await store.complete_and_claim(ids["seed"], worker="w1")  # not running: nothing claimed
    with pytest.raises(NotFoundError, match="999999"):
        await store.complete_and_claim(999999)
    assert (await store.task_counts(pid))[TaskStatus.RUNNING] == 1
    # seed becomes ready by this very completion, and comes before page in claim order.
    change, seed = await store.complete_and_claim(ids["schema"], worker="w1")
    assert change.task.key == "schema"
    assert change.task.status == TaskStatus.DONE
    assert change.previous == TaskStatus.RUNNING
    assert not change.epic_completed
    assert seed is not None
    assert seed.key == "seed"
    assert seed.status == TaskStatus.RUNNING
    assert seed.claimed_by == "w1"
    assert seed.attempts == 1
    # seed finishes epic db: users (waiting for the whole epic) is ready in the same call.
    change, users = await store.complete_and_claim(ids["seed"], worker="w2")
    assert change.epic_completed
    assert users is not None
    assert users.key == "users"
    assert users.claimed_by == "w2"
    epics = {e.key: e for e in await store.list_epics(pid)}
    assert epics["db"].status == EpicStatus.DONE
    assert epics["api"].status == EpicStatus.RUNNING
    page = await store.claim_next_task(pid)
    assert page is not None
    assert page.key == "page"
    change, none = await store.complete_and_claim(ids["page"])  # orders waits for users
    assert change.task.status == TaskStatus.DONE
    assert none is None
    with pytest.raises(InvalidTransitionError, match="done"):
        await store.complete_and_claim(ids["page"])  # done is final
    assert (await store.task_counts(pid))[TaskStatus.RUNNING] == 1


async def test_illegal_and_unknown_transitions_are_refused(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    ids = stored.task_ids
    with pytest.raises(InvalidTransitionError, match="pending to done"):
        await store.complete_task(ids["schema"])
    with pytest.raises(InvalidTransitionError, match="dependencies are done"):
        await store.update_task_status(ids["seed"], TaskStatus.RUNNING)
    await store.update_task_status(ids["schema"], "running")
    await store.complete_task(ids["schema"])
    with pytest.raises(InvalidTransitionError, match="done to running"):
        await store.update_task_status(ids["schema"], TaskStatus.RUNNING)
    with pytest.raises(InvalidTransitionError, match="unknown task status 'finished'"):
        await store.update_task_status(ids["seed"], "finished")
    with pytest.raises(InvalidTransitionError, match="not running"):
        await store.update_task_status(ids["seed"], "blocked", expected=TaskStatus.RUNNING)
    with pytest.raises(NotFoundError):
        await store.update_task_status(999_999, "running")
    task = await store.get_task(ids["schema"])
    assert task is not None
    assert task.status == TaskStatus.DONE


async def test_failure_retry_and_release(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    await store.update_task_status(ids["schema"], "running")
    failed = await store.update_task_status(ids["schema"], "failed", error="tests failed")
    assert failed.task.last_error == "tests failed"
    await store.update_task_status(ids["schema"], "pending")
    again = await store.claim_next_task(pid)
    assert again is not None
    assert again.key in {"schema", "page"}
    tasks = {t.key: t for t in await store.list_tasks(pid)}
    assert tasks["schema"].attempts >= 1
    assert [t.key for t in await store.list_tasks(pid, status=TaskStatus.PENDING)] == [
        k for k in ("schema", "seed", "users", "orders", "page") if tasks[k].status == "pending"
    ]


async def test_task_and_epic_creation_and_dependency_edits(store: PostgresStore) -> None:
    project = await store.create_project("by-hand", description="planned by an agent")
    assert await store.get_project(project.id) == project
    assert (await store.get_project_by_name("by-hand")) == project
    db = await store.create_epic(project.id, "db", "Database")
    api = await store.create_epic(project.id, "api", "API", depends_on=[db.id])
    assert api.depends_on == (db.id,)
    assert api.position == 1
    a = await store.create_task(project.id, db.id, "a", "A", task_type="schema")
    b = await store.create_task(project.id, db.id, "b", "B", depends_on=[a.id])
    c = await store.create_task(project.id, api.id, "c", "C")
    assert (b.depends_on, b.position, a.task_type) == ((a.id,), 1, "schema")
    with pytest.raises(PlanError, match="cycle"):
        await store.set_task_dependencies(a.id, [b.id])
    with pytest.raises(PlanError, match="cycle"):  # through the epic dependency api -> db
        await store.set_task_dependencies(a.id, [c.id])
    with pytest.raises(PlanError, match="itself"):
        await store.set_task_dependencies(a.id, [a.id])
    with pytest.raises(NotFoundError, match="no task 424242"):
        await store.set_task_dependencies(a.id, [424242])
    soft = await store.set_task_dependencies(c.id, [b.id], dependency_type="soft")
    assert soft.soft_dependencies == (b.id,)
    assert soft.hard_dependencies == ()
    assert (await store.get_task_by_key(project.id, "c")) == soft
    with pytest.raises(NotFoundError):
        await store.create_task(project.id, 424242, "x", "X")
    await store.set_epic_dependencies(api.id, [])
    assert (await store.get_epic(api.id)).depends_on == ()  # type: ignore[union-attr]
    updated = await store.update_project_metadata(project.id, {"branch": "main"})
    assert updated.metadata == {"branch": "main"}
    assert [p.name for p in await store.list_projects()] == ["by-hand"]


async def test_no_task_joins_a_finished_epic(store: PostgresStore) -> None:
    project = await store.create_project("p")
    epic = await store.create_epic(project.id, "e", "E")
    task = await store.create_task(project.id, epic.id, "t", "T")
    await store.update_task_status(task.id, "running")
    assert (await store.complete_task(task.id)).epic_completed
    with pytest.raises(InvalidTransitionError, match="done"):
        await store.create_task(project.id, epic.id, "late", "Late")


async def test_tests_and_sessions(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    test = await store.create_test(ids["schema"], "tables exist", steps=["run psql", "\\dt"])
    assert test.steps == ("run psql", "\\dt")
    assert test.status == TestStatus.PENDING
    passed = await store.update_test_status(test.id, TestStatus.PASSED, result="ok")
    assert passed.status == TestStatus.PASSED
    assert passed.verified_at is not None
    assert await store.list_tests(ids["schema"]) == [passed]
    session = await store.start_session(pid, task_id=ids["schema"], model="claude-haiku-4-5")
    assert session.status == SessionStatus.RUNNING
    ended = await store.end_session(
        session.id, SessionStatus.SUCCEEDED, summary="done", metrics={"turns": 3}
    )
    assert ended.metrics == {"turns": 3}
    assert ended.ended_at is not None
    assert await store.get_session(session.id) == ended
    assert await store.list_sessions(pid, task_id=ids["schema"]) == [ended]
    assert await store.list_sessions(pid, task_id=ids["seed"]) == []


async def test_parallel_batches_and_progress(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    batch = await store.create_parallel_batch(pid, 1, [ids["schema"], ids["page"]])
    assert batch.status == BatchStatus.PENDING
    assert await store.get_parallel_batch(pid, 1) == batch
    assert await store.get_parallel_batch(pid, 2) is None
    running = await store.update_batch_status(batch.id, "running")
    assert running.started_at is not None
    await store.update_task_status(ids["schema"], "running")
    await store.complete_task(ids["schema"])
    [progress] = await store.parallel_progress(pid)
    assert (progress.total, progress.done, progress.pending, progress.running) == (2, 1, 1, 0)
    with pytest.raises(InvalidTransitionError, match="running to pending"):
        await store.update_batch_status(batch.id, BatchStatus.PENDING)
    with pytest.raises(InvalidTransitionError, match="unknown batch status"):
        await store.update_batch_status(batch.id, "later")
    done = await store.update_batch_status(batch.id, BatchStatus.DONE)
    assert done.completed_at is not None
    assert await store.list_parallel_batches(pid) == [done]


async def test_worktree_ledger(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids, epic_ids = stored.project.id, stored.task_ids, stored.epic_ids
    wt = await store.create_worktree(
        pid,
        task_id=ids["schema"],
        epic_id=epic_ids["db"],
        branch="yf/schema",
        path="/w/schema",
        base_commit="abc",
    )
    assert wt.status == WorktreeStatus.ACTIVE
    assert wt.branch == "yf/schema"
    assert await store.get_worktree(wt.id) == wt
    assert await store.get_worktree_by_task(pid, ids["schema"]) == wt
    assert await store.get_worktree_by_epic(pid, epic_ids["db"]) == [wt]
    conflict = await store.update_worktree_status(
        wt.id, WorktreeStatus.CONFLICT, conflicts=[ConflictFile("a.py", "content")]
    )
    assert conflict.conflicts == (ConflictFile("a.py", "content"),)
    again = await store.create_worktree(
        pid, task_id=ids["schema"], epic_id=None, branch="yf/schema", path="/w/2", base_commit=None
    )
    assert (again.id, again.status, again.path, again.base_commit) == (
        wt.id,
        WorktreeStatus.ACTIVE,
        "/w/2",
        "abc",
    )
    assert again.conflicts == ()
    merged = await store.mark_worktree_merged(wt.id, "def")
    assert (merged.status, merged.merge_commit) == (WorktreeStatus.MERGED, "def")
    assert await store.list_worktrees(pid, WorktreeStatus.MERGED) == [merged]
    assert await store.list_worktrees(pid, WorktreeStatus.ACTIVE) == []
    view = await store.pool.fetchrow(
        "SELECT * FROM v_worktree_status WHERE worktree_id = $1", wt.id
    )
    assert (view["task_key"], view["epic_key"], view["status"]) == ("schema", "db", "merged")
    with pytest.raises(NotFoundError):
        await store.mark_worktree_merged(424242, "x")


async def test_costs(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid, ids = stored.project.id, stored.task_ids
    session = await store.start_session(pid, task_id=ids["schema"])
    one = await store.record_agent_cost(
        pid,
        model="claude-haiku-4-5",
        cost_usd=0.1,
        session_id=session.id,
        task_id=ids["schema"],
        input_tokens=1000,
        output_tokens=200,
        cache_read_tokens=50,
    )
    assert one.cost_usd == Decimal("0.1")
    await store.record_agent_cost(pid, model="claude-haiku-4-5", cost_usd=Decimal("0.25"))
    await store.record_agent_cost(
        pid, model="claude-sonnet-4-5", cost_usd=1.5, operation="planning", output_tokens=10
    )
    assert await store.get_project_cost_total(pid) == Decimal("1.85")
    by_model = {c.model: c for c in await store.get_cost_by_model(pid)}
    assert by_model["claude-haiku-4-5"].cost_usd == Decimal("0.35")
    assert by_model["claude-haiku-4-5"].calls == 2
    assert by_model["claude-haiku-4-5"].input_tokens == 1000
    rows = {(c.model, c.operation): c for c in await store.get_project_costs(pid)}
    assert rows[("claude-sonnet-4-5", "planning")].cost_usd == Decimal("1.5")
    assert rows[("claude-haiku-4-5", "task")].calls == 2
    assert len(await store.list_agent_costs(pid)) == 3
    await store.record_agent_cost(pid, model="m", cost_usd=0.05, task_id=ids["schema"])
    assert await store.get_cost_by_task(pid) == {ids["schema"]: Decimal("0.15")}
    other = await store.create_project("other")
    assert await store.get_project_cost_total(other.id) == Decimal(0)
    assert await store.get_project_costs(other.id) == []


async def test_expertise_versions_and_history(store: PostgresStore) -> None:
    project = await store.create_project("p")
    assert await store.get_expertise(project.id, "database") is None
    first = await store.save_expertise(project.id, "database", {"lessons": ["a"]}, line_count=1)
    assert first.version == 1
    assert first.validated_at is None
    second = await store.save_expertise(
        project.id, "database", {"lessons": ["a", "b"]}, line_count=2, validated=True
    )
    assert (second.id, second.version, second.line_count) == (first.id, 2, 2)
    assert second.validated_at is not None
    await store.save_expertise(project.id, "api", {}, line_count=0)
    assert await store.list_expertise_domains(project.id) == ["api", "database"]
    update = await store.record_expertise_update(second.id, "learn", "learned b", diff="+ b")
    assert (update.version, update.diff) == (2, "+ b")
    assert await store.list_expertise_updates(second.id) == [update]
    with pytest.raises(NotFoundError):
        await store.record_expertise_update(424242, "learn", "x")
    got = await store.get_expertise(project.id, "database")
    assert got is not None
    assert got.content == {"lessons": ["a", "b"]}


async def test_database_errors_become_yokeflow_errors(store: PostgresStore) -> None:
    stored = await store.create_plan(shop())
    pid = stored.project.id
    with pytest.raises(
        AlreadyExistsError, match=r"create_epic: Key \(project_id, key\)=\(\d+, db\) already exists"
    ):
        await store.create_epic(pid, "db", "Database again")
    with pytest.raises(AlreadyExistsError):
        await store.create_task(pid, stored.epic_ids["ui"], "schema", "Schema again")
    await store.create_parallel_batch(pid, 1, [])
    with pytest.raises(AlreadyExistsError):
        await store.create_parallel_batch(pid, 1, [])
    with pytest.raises(NotFoundError, match="start_session"):
        await store.start_session(424242)
    with pytest.raises(NotFoundError):
        await store.record_agent_cost(424242, model="m", cost_usd=1)
