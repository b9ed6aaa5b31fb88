"""What every tool works with: the store, the plan edits, the caller's scope, and references.

Tools name tasks and epics by key (``"api-login"``) or by id (``12``). :meth:`Toolbox.task` and
:meth:`Toolbox.epic` look them up *inside the scope's project* only, so another project's records
are "unknown" — the same answer as for a key that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from yokeflow.core.records import Epic, Task
from yokeflow.errors import NotFoundError
from yokeflow.ports.plan_edits import PlanEdits
from yokeflow.ports.store import Store
from yokeflow_mcp.access import ScopeSource
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.views import task_view

__all__ = ["OwnTaskRef", "Ref", "Toolbox"]

Ref = int | str
"""A task or epic: its key, or its numeric id."""

OwnTaskRef = Annotated[
    Ref | None,
    Field(
        description="The task's key or id. Omit it in a session that belongs to one task: "
        "your own task is meant."
    ),
]
"""A tool argument naming a task, which task-scoped sessions may leave out."""


@dataclass(frozen=True)
class Keys:
    """Id → key maps of a project's tasks and epics (for showing dependencies by key)."""

    tasks: dict[int, str]
    epics: dict[int, str]


class Toolbox:
    """The store, the atomic plan edits and the scope source the tools share."""

    def __init__(self, store: Store, edits: PlanEdits, access: ScopeSource) -> None:
        self.store = store
        self.edits = edits
        self.access = access

    def scope(self, ctx: Any) -> Scope:
        """The scope of the call ``ctx`` (a FastMCP context) is serving."""
        request = None
        try:
            request = ctx.request_context.request
        except (ValueError, AttributeError):
            request = None  # no request context: a direct call (tests, stdio)
        return self.access.scope(request)

    async def project_name(self, scope: Scope) -> str:
        project = await self.store.get_project(scope.project_id)
        if project is None:
            raise NotFoundError(f"project {scope.project_id} does not exist")
        return project.name

    async def task(self, scope: Scope, ref: Ref) -> Task:
        """The task ``ref`` of the scope's project; unknown elsewhere."""
        found: Task | None = None
        if isinstance(ref, str):
            text = ref.strip()
            found = await self.store.get_task_by_key(scope.project_id, text)
            if found is None and text.isdigit():
                found = await self.store.get_task(int(text))
        else:
            found = await self.store.get_task(ref)
        if found is None or found.project_id != scope.project_id:
            raise NotFoundError(
                f"unknown task {ref!r} in this project (use list_tasks to see keys)"
            )
        return found

    async def own_or_given(self, scope: Scope, ref: Ref | None) -> Task:
        """The task ``ref``; when omitted, the scope's own task (refused if it has none)."""
        if ref is None:
            if scope.task_id is None:
                raise NotFoundError("name the task: this session is not bound to one task")
            return await self.task(scope, scope.task_id)
        return await self.task(scope, ref)

    async def epic(self, scope: Scope, ref: Ref) -> Epic:
        """The epic ``ref`` of the scope's project; unknown elsewhere."""
        epics = await self.store.list_epics(scope.project_id)
        text = ref.strip() if isinstance(ref, str) else None
        for epic in epics:
            if epic.key == text or epic.id == ref or (text is not None and str(epic.id) == text):
                return epic
        raise NotFoundError(f"unknown epic {ref!r} in this project (use list_epics to see keys)")

    async def view(self, scope: Scope, task: Task) -> dict[str, Any]:
        """``task`` as the agents see it; reads only its dependencies and the epics."""
        deps = await self.store.get_task_dependencies(task.id)
        epics = await self.store.list_epics(scope.project_id)
        return task_view(task, {d.id: d.key for d in deps}, {e.id: e.key for e in epics})

    async def keys(self, scope: Scope) -> Keys:
        tasks = await self.store.list_tasks(scope.project_id)
        epics = await self.store.list_epics(scope.project_id)
        return Keys({t.id: t.key for t in tasks}, {e.id: e.key for e in epics})

    async def task_ids(self, scope: Scope, refs: list[Ref]) -> list[int]:
        """The ids of ``refs`` (keys or ids) in the scope's project; unknown ones named together."""
        tasks = await self.store.list_tasks(scope.project_id)
        by_key = {t.key: t.id for t in tasks}
        ids = {t.id for t in tasks}
        out: list[int] = []
        unknown: list[str] = []
        for ref in refs:
            text = ref.strip() if isinstance(ref, str) else None
            if text is not None and text in by_key:
                out.append(by_key[text])
            elif isinstance(ref, int) and ref in ids:
                out.append(ref)
            elif text is not None and text.isdigit() and int(text) in ids:
                out.append(int(text))
            else:
                unknown.append(repr(ref))
        if unknown:
            raise NotFoundError(f"unknown task {', '.join(unknown)} in this project")
        return out

    async def epic_ids(self, scope: Scope, refs: list[Ref]) -> list[int]:
        return [(await self.epic(scope, r)).id for r in refs]
