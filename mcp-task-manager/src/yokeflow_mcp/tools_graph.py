"""Tools that show the dependency graph: the whole graph, the parallel batches, and a check.

They resolve the project's stored tasks with :func:`yokeflow.core.graph.resolve` — the same
resolver as ``yokeflow graph`` — and change nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.fastmcp import Context, FastMCP
from pydantic import Field

from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.inference import suggest_dependencies
from yokeflow.core.pictures import select, to_ascii, to_mermaid
from yokeflow.core.records import Task
from yokeflow_mcp.registration import READ_ONLY, add_tool
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.toolbox import Ref, Toolbox

__all__ = ["register"]

Ctx = Context[Any, Any, Any]
EpicFilter = Annotated[
    Ref | None, Field(description="Only this epic's tasks (its key or id; default: every epic).")
]


def register(app: FastMCP[Any], box: Toolbox) -> None:
    """Add the graph tools to ``app``."""

    async def load(scope: Scope) -> tuple[DependencyGraph, list[Task]]:
        tasks = await box.store.get_tasks_with_dependencies(scope.project_id)
        epics = await box.store.list_epics(scope.project_id)
        return graph_from_records(tasks, epics), tasks

    async def only(scope: Scope, graph: DependencyGraph, epic_id: Ref | None) -> set[str] | None:
        if epic_id is None:
            return None
        epic = await box.epic(scope, epic_id)
        return set(select(graph, epic=epic.key))

    async def get_dependency_graph(
        ctx: Ctx,
        format: Annotated[
            Literal["json", "mermaid", "ascii"],
            Field(
                description="json: batches, order, critical path, problems; mermaid: a "
                "flowchart; ascii: a plain-text outline by batch."
            ),
        ] = "json",
        epic_id: EpicFilter = None,
    ) -> dict[str, Any]:
        """The project's task dependency graph, resolved: parallel batches, task order, the
        critical path and any problems — as JSON, a Mermaid flowchart, or plain text. With
        epic_id, only that epic's tasks (batches keep their numbers)."""
        scope = box.scope(ctx)
        graph, tasks = await load(scope)
        shown = await only(scope, graph, epic_id)
        if format == "mermaid":
            return {"format": "mermaid", "graph": to_mermaid(graph, only=shown)}
        if format == "ascii":
            return {"format": "ascii", "graph": to_ascii(graph, only=shown)}
        data = graph.to_dict()
        data["status"] = {t.key: t.status.value for t in tasks}
        if shown is not None:
            data["batches"] = [[k for k in b if k in shown] for b in data["batches"]]
            data["task_order"] = [k for k in data["task_order"] if k in shown]
            data["status"] = {k: v for k, v in data["status"].items() if k in shown}
            data["task_count"] = len(shown)
        return {"format": "json", "graph": data}

    async def get_parallel_batches(ctx: Ctx, epic_id: EpicFilter = None) -> dict[str, Any]:
        """The tasks grouped into batches that can run in parallel: every task of a batch
        depends only on tasks of earlier batches. Each task is shown with its status. With
        epic_id, only the batches holding that epic's tasks, and only those tasks."""
        scope = box.scope(ctx)
        graph, tasks = await load(scope)
        shown = await only(scope, graph, epic_id)
        status = {t.key: t.status.value for t in tasks}
        batches = [
            {
                "batch": number,
                "tasks": [{"key": k, "status": status.get(k)} for k in keys],
                "done": all(status.get(k) == "done" for k in keys),
            }
            for number, keys in (
                (n, [k for k in batch if shown is None or k in shown])
                for n, batch in enumerate(graph.batches, start=1)
            )
            if keys
        ]
        return {
            "batches": batches,
            "critical_path": list(graph.critical_path()),
            "blocked_by_cycles": list(graph.blocked),
        }

    async def validate_dependencies(ctx: Ctx) -> dict[str, Any]:
        """Check the plan's dependencies: cycles, dependencies on unknown tasks or epics, and
        suggested dependencies that look missing (inferred from titles and descriptions, e.g. a
        UI task that probably needs the API task it talks to). valid=false lists the problems."""
        graph, _ = await load(box.scope(ctx))
        return {
            "valid": graph.is_valid,
            "problems": graph.problems(),
            "cycles": [list(c) for c in graph.circular_deps],
            "unknown": [m.to_dict() for m in graph.missing_deps],
            "suggestions": [s.to_dict() for s in suggest_dependencies(graph)],
        }

    for fn in (get_dependency_graph, get_parallel_batches, validate_dependencies):
        add_tool(app, fn, READ_ONLY)
