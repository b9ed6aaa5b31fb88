"""The MCP tools' logic through an in-memory MCP session over the fake store (no processes, no
database): what is ready, scoping, parking, all-or-none batches, clear errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession
from mcp.shared.memory import create_connected_server_and_client_session

from yokeflow.core.records import ProjectPlan, TaskStatus
from yokeflow.ports.plan_edits import PlanEdits
from yokeflow.testing.fake_plan_edits import FakePlanEdits
from yokeflow.testing.fake_store import FakeStore
from yokeflow.testing.mcp_clients import ToolCallError, call
from yokeflow.testing.plans import random_plan
from yokeflow_mcp import FixedScope, Scope, build_server


@asynccontextmanager
async def _session(store: FakeStore, scope: Scope) -> AsyncIterator[ClientSession]:
    edits: PlanEdits = FakePlanEdits(store)
    app = build_server(store, edits, FixedScope(scope))
    async with create_connected_server_and_client_session(app) as session:
        yield session


@pytest.fixture
async def planned() -> tuple[FakeStore, ProjectPlan]:
    store = FakeStore()
    plan = await store.create_plan(
        random_plan(epics=3, tasks_per_epic=8, max_dependencies=2, seed=3, name="p")
    )
    return store, plan


async def test_the_next_task_shown_is_the_one_a_claim_takes(
    planned: tuple[FakeStore, ProjectPlan],
) -> None:
    store, plan = planned
    async with _session(store, Scope(plan.project.id, worker="me")) as session:
        finished = 0
        while True:
            peek = await call(session, "get_next_task")
            taken = await call(session, "get_next_task", claim=True)
            if taken["task"] is None:
                assert peek["task"] is None
                break
            assert peek["task"]["key"] == taken["task"]["key"]
            assert taken["task"]["claimed_by"] == "me"
            await call(session, "update_task_status", task=taken["task"]["key"], status="done")
            finished += 1
    assert finished == len(plan.tasks)
    assert all(t.status == TaskStatus.DONE for t in await store.list_tasks(plan.project.id))


async def test_a_task_session_sees_everything_and_changes_only_its_task(
    planned: tuple[FakeStore, ProjectPlan],
) -> None:
    store, plan = planned
    own, other = plan.tasks[0], plan.tasks[1]
    async with _session(store, Scope(plan.project.id, own.id)) as session:
        assert (await call(session, "get_next_task"))["task"]["key"] == own.key
        assert len((await call(session, "list_tasks"))["tasks"]) == len(plan.tasks)
        with pytest.raises(ToolCallError, match="only change its own task"):
            await call(session, "update_task_status", task=other.key, status="blocked")
        with pytest.raises(ToolCallError, match="project-wide session"):
            await call(session, "create_epic", name="x")
        started = await call(session, "get_next_task", claim=True)
        assert started["claimed"] is True
        done = await call(session, "update_task_status", status="done")
        assert done["previous"] == "running"
    assert (await store.get_task(other.id)).status == TaskStatus.PENDING  # type: ignore[union-attr]


async def test_parking_and_all_or_none_batches_on_the_fakes() -> None:
    store = FakeStore()
    project = await store.create_project("q")
    epic = await store.create_epic(project.id, "e", "E")
    async with _session(store, Scope(project.id)) as session:
        made = await call(
            session,
            "expand_epic",
            epic="e",
            tasks=[{"title": "A", "key": "a"}, {"title": "B", "key": "b", "depends_on": ["a"]}],
        )
        assert [t["depends_on"] for t in made["tasks"]] == [[], ["a"]]
        with pytest.raises(ToolCallError, match="cycle"):
            await call(
                session,
                "expand_epic",
                epic=epic.id,
                tasks=[
                    {"title": "C", "key": "c", "depends_on": ["d"]},
                    {"title": "D", "key": "d", "depends_on": ["c"]},
                ],
            )
        assert await store.get_task_by_key(project.id, "c") is None
        await call(session, "create_task", epic="e", title="X", key="x")
        await call(session, "start_task", task="x")
        parked = await call(
            session, "declare_dependency", task="x", depends_on="b", reason="needs b"
        )
        assert parked["parked"] is True
        assert parked["task"]["status"] == "pending"
        assert parked["task"]["depends_on"] == ["b"]
        with pytest.raises(ToolCallError, match="cycle"):
            await call(session, "declare_dependency", task="a", depends_on="x", reason="loop")
        with pytest.raises(ToolCallError, match="unknown task 'nope'"):
            await call(session, "declare_dependency", task="a", depends_on="nope", reason="?")
        graph = await call(session, "validate_dependencies")
        assert graph["valid"] is True
