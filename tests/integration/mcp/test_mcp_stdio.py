"""The task tools through a real MCP client session over stdio, on real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.records import EpicStatus, ProjectPlan, TaskStatus
from yokeflow.testing.mcp_clients import ToolCallError, call, stdio_session
from yokeflow_mcp.launch import stdio_launch

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[3]


async def test_tools_over_stdio_match_the_snapshot(pg_database_url: str, todo: ProjectPlan) -> None:
    snapshot = json.loads((ROOT / "mcp-task-manager/tools.snapshot.json").read_text())
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        listed = (await session.list_tools()).tools
    assert sorted(t.name for t in listed) == [t["name"] for t in snapshot["tools"]]
    schemas = {t.name: t.inputSchema for t in listed}
    assert schemas == {t["name"]: t["inputSchema"] for t in snapshot["tools"]}


async def test_an_agent_works_through_a_task_and_the_database_shows_it(
    pg_database_url: str, store: PostgresStore, todo: ProjectPlan
) -> None:
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        status = await call(session, "task_status")
        assert status["total_tasks"] == 7
        assert status["tasks"]["pending"] == 7

        peek = await call(session, "get_next_task")
        assert peek["task"]["key"] == "db-schema"
        assert peek["claimed"] is False

        started = await call(session, "start_task", task="db-schema")
        assert started["task"]["status"] == "running"
        assert (await store.get_task_by_key(todo.project.id, "db-schema")).status == "running"  # type: ignore[union-attr]

        # Refused, with the reason named: it is already running.
        with pytest.raises(ToolCallError, match="already running"):
            await call(session, "start_task", task="db-schema")
        # db-seed waits for db-schema.
        with pytest.raises(ToolCallError, match=r"dependencies are done \(db-schema\)"):
            await call(session, "start_task", task="db-seed")

        test = await call(session, "create_test", task="db-schema", description="table exists")
        await call(session, "update_test_result", test_id=test["test"]["id"], passed=True)
        done = await call(session, "update_task_status", task="db-schema", status="done")
        assert done["previous"] == "running"
        assert done["epic_completed"] is False

        claimed = await call(session, "get_next_task", claim=True)
        assert claimed["task"]["key"] == "db-seed"
        assert claimed["claimed"] is True
        # Starting a task this session claimed is harmless.
        again = await call(session, "start_task", task="db-seed")
        assert again["message"] == "already running"
        finished = await call(session, "update_task_status", task="db-seed", status="done")
        assert finished["epic_completed"] is True

        detail = await call(session, "get_task", task="db-schema")
        assert detail["tests"][0]["status"] == "passed"
        assert detail["status"] == "done"

    schema = await store.get_task_by_key(todo.project.id, "db-schema")
    seed = await store.get_task_by_key(todo.project.id, "db-seed")
    assert schema is not None
    assert schema.status == TaskStatus.DONE
    assert seed is not None
    assert seed.status == TaskStatus.DONE
    assert (seed.claimed_by or "").startswith("mcp-stdio:")
    epics = {e.key: e for e in await store.list_epics(todo.project.id)}
    assert epics["db"].status == EpicStatus.DONE
    assert epics["db"].completed_at is not None
    tests = await store.list_tests(schema.id)
    assert [t.status.value for t in tests] == ["passed"]


async def test_errors_are_one_clear_sentence(pg_database_url: str, todo: ProjectPlan) -> None:
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        cases = {
            "unknown task 'nope'": ("get_task", {"task": "nope"}),
            "cannot go from pending to done": (
                "update_task_status",
                {"task": "db-schema", "status": "done"},
            ),
            "unknown epic 'nope'": ("create_task", {"epic": "nope", "title": "x"}),
            "unknown task 'ghost'": (
                "create_task",
                {"epic": "db", "title": "x", "depends_on": ["ghost"]},
            ),
            "cannot be marked complete: 7 task(s) are not done": ("mark_project_complete", {}),
        }
        for expected, (tool, arguments) in cases.items():
            with pytest.raises(ToolCallError) as refused:
                await call(session, tool, **arguments)
            message = str(refused.value)
            assert expected in message, message
            assert "Traceback" not in message
            assert len(message.splitlines()) == 1, message


async def test_planning_tools_build_a_graph_with_dependencies(
    pg_database_url: str, store: PostgresStore, todo: ProjectPlan
) -> None:
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        epic = await call(
            session, "create_epic", name="Docs", key="docs", depends_on=["api"], priority=5
        )
        assert epic["epic"]["depends_on"] == ["api"]
        guide = await call(
            session,
            "create_task",
            epic="docs",
            title="User guide",
            depends_on=["api-list", todo.task_ids["ui-page"]],  # a key and an id
        )
        assert guide["task"]["key"] == "user-guide"
        assert guide["task"]["depends_on"] == ["api-list", "ui-page"]
        soft = await call(
            session,
            "create_task",
            epic="docs",
            title="Changelog",
            key="changelog",
            depends_on=["user-guide"],
            dependency_type="soft",
        )
        assert soft["task"]["soft_depends_on"] == ["user-guide"]
        assert soft["task"]["depends_on"] == []

        expanded = await call(
            session,
            "expand_epic",
            epic="docs",
            tasks=[
                {"title": "API reference", "key": "api-ref", "depends_on": ["api-update"]},
                {"title": "Tutorial", "depends_on": ["api-ref", "user-guide"]},
            ],
        )
        assert [t["key"] for t in expanded["tasks"]] == ["api-ref", "tutorial"]
        assert expanded["tasks"][1]["depends_on"] == ["api-ref", "user-guide"]

        # All or nothing: the second draft names an unknown task, so neither is stored.
        with pytest.raises(ToolCallError, match="has no task missing-one"):
            await call(
                session,
                "expand_epic",
                epic="docs",
                tasks=[{"title": "A", "key": "a"}, {"title": "B", "depends_on": ["missing-one"]}],
            )
        assert await store.get_task_by_key(todo.project.id, "a") is None

        graph = await call(session, "get_dependency_graph")
        assert graph["graph"]["cycles"] == []
        assert graph["graph"]["status"]["tutorial"] == "pending"
        mermaid = await call(session, "get_dependency_graph", format="mermaid")
        assert mermaid["graph"].startswith("flowchart")
        ascii_picture = await call(session, "get_dependency_graph", format="ascii")
        assert "tutorial" in ascii_picture["graph"]

        batches = await call(session, "get_parallel_batches")
        order = [t["key"] for b in batches["batches"] for t in b["tasks"]]
        assert order.index("api-ref") > order.index("api-update")
        assert order.index("tutorial") > order.index("user-guide")
        assert batches["batches"][0]["tasks"][0] == {"key": "db-schema", "status": "pending"}

        # epic_id narrows the graph and the batches to one epic; batches keep their numbers
        docs_batches = await call(session, "get_parallel_batches", epic_id="docs")
        docs_keys = {t["key"] for b in docs_batches["batches"] for t in b["tasks"]}
        assert docs_keys == {"user-guide", "changelog", "api-ref", "tutorial"}
        assert docs_batches["batches"][0]["batch"] > 1
        docs_graph = await call(session, "get_dependency_graph", epic_id="docs")
        assert set(docs_graph["graph"]["status"]) == docs_keys
        assert set(docs_graph["graph"]["task_order"]) == docs_keys
        docs_picture = await call(session, "get_dependency_graph", format="mermaid", epic_id="docs")
        assert "db_schema" not in docs_picture["graph"]
        assert "tutorial" in docs_picture["graph"]
        with pytest.raises(ToolCallError, match="unknown epic 'nope'"):
            await call(session, "get_parallel_batches", epic_id="nope")

        check = await call(session, "validate_dependencies")
        assert check["valid"] is True
        assert check["cycles"] == []
        assert check["unknown"] == []
        assert isinstance(check["suggestions"], list)

    tutorial = await store.get_task_by_key(todo.project.id, "tutorial")
    assert tutorial is not None
    assert len(tutorial.depends_on) == 2


async def test_a_cycle_is_refused_and_named(pg_database_url: str, todo: ProjectPlan) -> None:
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        await call(session, "start_task", task="db-schema")
        with pytest.raises(ToolCallError) as refused:
            # db-seed depends on db-schema: db-schema waiting for db-seed closes a loop.
            await call(
                session,
                "declare_dependency",
                task="db-schema",
                depends_on="db-seed",
                reason="needs seed data",
            )
        assert "cycle: db-schema -> db-seed -> db-schema" in str(refused.value) or (
            "cycle: db-seed -> db-schema -> db-seed" in str(refused.value)
        )
        # Nothing changed: the task is still running and has no new dependency.
        task = await call(session, "get_task", task="db-schema")
        assert task["status"] == "running"
        assert task["depends_on"] == []


async def test_mark_project_complete_once_every_task_is_done(
    pg_database_url: str, store: PostgresStore, todo: ProjectPlan
) -> None:
    launch = stdio_launch(str(todo.project.id), database_url=pg_database_url)
    async with stdio_session(launch) as session:
        while True:
            nxt = await call(session, "get_next_task", claim=True)
            if nxt["task"] is None:
                assert "every task is done" in nxt["message"]
                break
            await call(session, "update_task_status", task=nxt["task"]["id"], status="done")
        done = await call(session, "mark_project_complete", summary="all built")
        assert done["project"]["completed"] is True
        status = await call(session, "task_status")
        assert status["percent_done"] == 100.0
        assert status["done_epics"] == 4
        history = await call(session, "get_session_history")
        assert history == {"sessions": []}
    project = await store.get_project(todo.project.id)
    assert project is not None
    assert project.metadata["completion_summary"] == "all built"


async def test_planning_tools_pin_a_model_and_refuse_an_unknown_one(
    pg_database_url: str, store: PostgresStore, todo: ProjectPlan
) -> None:
    launch = stdio_launch("todo-api", database_url=pg_database_url)
    async with stdio_session(launch) as session:
        pinned = await call(
            session, "create_task", epic="db", title="Indexes", key="indexes", model="Opus"
        )
        assert pinned["task"]["pinned_model"] == "opus"
        expanded = await call(
            session,
            "expand_epic",
            epic="db",
            tasks=[
                {"title": "Backups", "key": "backups", "model": "claude-haiku-4-5"},
                {"title": "Vacuum"},
            ],
        )
        assert [t["pinned_model"] for t in expanded["tasks"]] == ["claude-haiku-4-5", None]
        shown = await call(session, "get_task", task="indexes")
        assert shown["pinned_model"] == "opus"
        for tool, arguments in (
            ("create_task", {"epic": "db", "title": "X", "key": "x", "model": "gpt-4"}),
            ("expand_epic", {"epic": "db", "tasks": [{"title": "Y", "model": "gpt-4"}]}),
        ):
            with pytest.raises(ToolCallError) as refused:
                await call(session, tool, **arguments)
            message = str(refused.value)
            assert "model 'gpt-4' is neither a tier" in message, message
            assert len(message.splitlines()) == 1, message
    stored = await store.get_task_by_key(todo.project.id, "backups")
    assert stored is not None
    assert stored.pinned_model == "claude-haiku-4-5"
    assert await store.get_task_by_key(todo.project.id, "x") is None
