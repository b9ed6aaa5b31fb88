"""A stored project's dependency graph: resolved, validated, and its edges changed.

The resolver is :mod:`yokeflow.core.graph`; this module reads the project's tasks and epics from
the store, resolves them, and changes one task's dependencies (by task id or key) through the
store, which refuses unknown ids, other projects' tasks and cycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.records import DependencyType, Task
from yokeflow.errors import NotFoundError
from yokeflow.ports.store import Store
from yokeflow.services.runs import project_or_404
from yokeflow.services.task_actions import task_of_project

__all__ = ["dependency_view", "project_graph", "set_dependencies", "validation"]


async def project_graph(store: Store, project_id: int) -> DependencyGraph:
    """The project's tasks and epics, resolved into batches, order and critical path."""
    await project_or_404(store, project_id)
    tasks = await store.get_tasks_with_dependencies(project_id)
    epics = await store.list_epics(project_id)
    return graph_from_records(tasks, epics)


async def dependency_view(store: Store, project_id: int) -> dict[str, Any]:
    """Every task with its dependencies (keys), and the resolved graph's JSON form."""
    graph = await project_graph(store, project_id)
    return {
        **graph.to_dict(),
        "tasks": [
            {
                "key": t.key,
                "epic": t.epic,
                "depends_on": list(t.depends_on),
                "soft_depends_on": list(t.soft_depends_on),
                "estimate_minutes": t.estimate_minutes,
            }
            for t in graph.tasks.values()
        ],
        "epics": [
            {"key": e.key, "name": e.name, "depends_on": list(e.depends_on)}
            for e in graph.epics.values()
        ],
    }


async def validation(store: Store, project_id: int) -> dict[str, Any]:
    """Whether the stored graph is valid, and each problem as one sentence."""
    graph = await project_graph(store, project_id)
    return {
        "valid": graph.is_valid,
        "problems": graph.problems(),
        "cycles": [list(c) for c in graph.circular_deps],
        "missing": [m.to_dict() for m in graph.missing_deps],
        "blocked": list(graph.blocked),
    }


async def _resolve_refs(store: Store, project_id: int, refs: Sequence[int | str]) -> list[int]:
    ids = []
    for ref in refs:
        if isinstance(ref, int):
            ids.append((await task_of_project(store, project_id, ref)).id)
            continue
        found = await store.get_task_by_key(project_id, ref)
        if found is None:
            raise NotFoundError(f"no task with key {ref!r} in project {project_id}")
        ids.append(found.id)
    return ids


async def set_dependencies(
    store: Store,
    project_id: int,
    task_id: int,
    depends_on: Sequence[int | str],
    *,
    dependency_type: DependencyType = "hard",
    soft_depends_on: Sequence[int | str] = (),
) -> Task:
    """Replace a task's dependencies (task ids or keys); a cycle or unknown task is refused."""
    task = await task_of_project(store, project_id, task_id)
    return await store.set_task_dependencies(
        task.id,
        await _resolve_refs(store, project_id, depends_on),
        dependency_type=dependency_type,
        soft_depends_on=await _resolve_refs(store, project_id, soft_depends_on),
    )
