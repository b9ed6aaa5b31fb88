"""Tools that read the plan: progress, epics, tasks, tests and past sessions. They change nothing."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from pydantic import Field

from yokeflow.core.records import TaskStatus
from yokeflow.core.status import parse_task_status
from yokeflow_mcp.registration import READ_ONLY, add_tool
from yokeflow_mcp.toolbox import OwnTaskRef, Ref, Toolbox
from yokeflow_mcp.views import epic_view, project_view, session_view, task_view, verification_view

__all__ = ["TaskRef", "register"]

Ctx = Context[Any, Any, Any]
TaskRef = Annotated[Ref, Field(description="The task's key (e.g. 'api-login') or its numeric id.")]
EpicRef = Annotated[Ref, Field(description="The epic's key (e.g. 'backend') or its numeric id.")]


def register(app: FastMCP[Any], box: Toolbox) -> None:
    """Add the read tools to ``app``."""

    async def task_status(ctx: Ctx) -> dict[str, Any]:
        """Overall progress of the project: how many tasks are in each status, how many epics
        are done, and whether the project is complete. Call it to get your bearings."""
        scope = box.scope(ctx)
        project = await box.store.get_project(scope.project_id)
        counts = await box.store.task_counts(scope.project_id)
        epics = await box.store.list_epics(scope.project_id)
        total = sum(counts.values())
        own = None
        if scope.task_id is not None:
            own = (await box.task(scope, scope.task_id)).key
        return {
            "project": None if project is None else project_view(project),
            "tasks": {status.value: n for status, n in counts.items()},
            "total_tasks": total,
            "done_tasks": counts[TaskStatus.DONE],
            "percent_done": round(100 * counts[TaskStatus.DONE] / total, 1) if total else 0.0,
            "epics": len(epics),
            "done_epics": sum(1 for e in epics if e.status.value == "done"),
            "your_task": own,
        }

    async def list_epics(ctx: Ctx) -> dict[str, Any]:
        """All epics of the project in plan order, each with its status, the epics it depends
        on, and how many of its tasks are done."""
        scope = box.scope(ctx)
        epics = await box.store.list_epics(scope.project_id)
        tasks = await box.store.list_tasks(scope.project_id)
        keys = {e.id: e.key for e in epics}
        out = []
        for epic in epics:
            mine = [t for t in tasks if t.epic_id == epic.id]
            view = epic_view(epic, keys)
            view["tasks"] = len(mine)
            view["done_tasks"] = sum(1 for t in mine if t.status == TaskStatus.DONE)
            out.append(view)
        return {"epics": out}

    async def get_epic(epic: EpicRef, ctx: Ctx) -> dict[str, Any]:
        """One epic with all of its tasks (key, title, status, dependencies)."""
        scope = box.scope(ctx)
        found = await box.epic(scope, epic)
        keys = await box.keys(scope)
        tasks = await box.store.list_tasks(scope.project_id, epic_id=found.id)
        view = epic_view(found, keys.epics)
        view["tasks"] = [task_view(t, keys.tasks, keys.epics) for t in tasks]
        return view

    async def list_tasks(
        ctx: Ctx,
        status: Annotated[
            str | None,
            Field(
                description="Only tasks in this status: pending, running, done, failed, "
                "blocked or cancelled. Omit for all."
            ),
        ] = None,
        epic: Annotated[
            Ref | None, Field(description="Only tasks of this epic (key or id). Omit for all.")
        ] = None,
    ) -> dict[str, Any]:
        """Tasks of the project in plan order, optionally filtered by status and epic."""
        scope = box.scope(ctx)
        wanted = None if status is None else parse_task_status(status)
        epic_id = None if epic is None else (await box.epic(scope, epic)).id
        keys = await box.keys(scope)
        tasks = await box.store.list_tasks(scope.project_id, status=wanted, epic_id=epic_id)
        return {"tasks": [task_view(t, keys.tasks, keys.epics) for t in tasks]}

    async def get_task(task: TaskRef, ctx: Ctx) -> dict[str, Any]:
        """Everything about one task: its description, status, dependencies (with their
        statuses) and its tests."""
        scope = box.scope(ctx)
        found = await box.task(scope, task)
        view = await box.view(scope, found)
        deps = await box.store.get_task_dependencies(found.id)
        view["dependencies"] = [
            {
                "key": d.key,
                "status": d.status.value,
                "type": "hard" if d.id in found.hard_dependencies else "soft",
            }
            for d in deps
        ]
        view["tests"] = [
            verification_view(t, found.key) for t in await box.store.list_tests(found.id)
        ]
        return view

    async def list_tests(ctx: Ctx, task: OwnTaskRef = None) -> dict[str, Any]:
        """The verification tests of one task, with their status (pending, passed, failed)."""
        scope = box.scope(ctx)
        found = await box.own_or_given(scope, task)
        tests = await box.store.list_tests(found.id)
        return {"task": found.key, "tests": [verification_view(t, found.key) for t in tests]}

    async def get_session_history(
        ctx: Ctx,
        task: Annotated[
            Ref | None,
            Field(description="Only sessions of this task (key or id). Omit for the project."),
        ] = None,
        limit: Annotated[
            int, Field(ge=1, le=100, description="At most this many, newest first.")
        ] = 10,
    ) -> dict[str, Any]:
        """Past agent sessions of the project (or of one task), newest first: kind, status,
        model, summary and error. Useful to learn what an earlier attempt did or why it failed."""
        scope = box.scope(ctx)
        task_id = None if task is None else (await box.task(scope, task)).id
        sessions = await box.store.list_sessions(scope.project_id, task_id=task_id)
        keys = await box.keys(scope)
        newest = sorted(sessions, key=lambda s: s.id, reverse=True)[:limit]
        return {"sessions": [session_view(s, keys.tasks) for s in newest]}

    for fn in (
        task_status,
        list_epics,
        get_epic,
        list_tasks,
        get_task,
        list_tests,
        get_session_history,
    ):
        add_tool(app, fn, READ_ONLY)
