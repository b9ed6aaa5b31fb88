"""Tools that write the plan: epics, tasks with their dependencies, tests, and completion.

Planning is project-wide: a session that belongs to one task may only add tests to its own task.
Dependencies are checked in the transaction that stores them — unknown tasks and cycles are
refused, and the error names them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from mcp.server.fastmcp import Context, FastMCP
from pydantic import BaseModel, ConfigDict, Field

from yokeflow.core.plan import MAX_ESTIMATE_MINUTES, PRIORITY_MAX, PRIORITY_MIN
from yokeflow.core.pricing import pinned_model
from yokeflow.core.task_types import infer_task_type
from yokeflow.errors import PlanError
from yokeflow.ports.plan_edits import NewTask
from yokeflow_mcp.registration import WRITES, add_tool
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.toolbox import OwnTaskRef, Ref, Toolbox
from yokeflow_mcp.views import epic_view, project_view, task_view, verification_view

__all__ = ["TaskDraft", "register", "slug"]

Ctx = Context[Any, Any, Any]
DependsOn = Annotated[
    list[Ref],
    Field(description="Tasks that must be done before this one: keys (or ids) of tasks."),
]
Key = Annotated[
    str | None,
    Field(
        description="A short unique key (letters, digits, '-', '_'), e.g. 'api-login'. "
        "Omit to derive one from the title.",
        max_length=80,
    ),
]
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TaskDraft(BaseModel):
    """One task of expand_epic."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    title: str = Field(min_length=1, max_length=300)
    """What the task achieves, in a few words."""
    key: str | None = Field(default=None, max_length=80)
    """A short unique key; derived from the title when omitted."""
    description: str = ""
    """What to build and how to know it is done."""
    depends_on: list[Ref] = Field(default_factory=list)
    """Keys of tasks (existing ones or others in this call) that must be done first."""
    dependency_type: Literal["hard", "soft"] = "hard"
    """hard: wait for them; soft: only prefer to run after them."""
    priority: int = Field(default=0, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    """Lower runs first among ready tasks."""
    estimate_minutes: float = Field(default=1.0, gt=0, le=MAX_ESTIMATE_MINUTES, allow_inf_nan=False)
    task_type: str | None = None
    """A free label such as 'api', 'ui', 'test', 'docs' (used to pick the model); inferred from
    the title and description when omitted."""
    model: str | None = None
    """Pin the model of every attempt: a tier ('haiku', 'sonnet', 'opus') or a Claude model id
    ('claude-opus-4-5'); omitted: chosen by cost and complexity."""


def slug(text: str, taken: set[str]) -> str:
    """A key from ``text`` (lowercase words joined by '-'), made unique against ``taken``."""
    base = "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:48].strip("-") or "task"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _check_key(key: str) -> str:
    key = key.strip()
    if not _KEY.match(key):
        raise PlanError(
            f"key {key!r}",
            "",
            "use letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return key


def _pin(key: str, model: str | None) -> str | None:
    """The checked model to pin on task ``key`` (see :func:`~yokeflow.core.pricing.pinned_model`)."""
    if model is None:
        return None
    try:
        return pinned_model(model)
    except ValueError as exc:
        raise PlanError(f"task {key}", "model", str(exc)) from None


def register(app: FastMCP[Any], box: Toolbox) -> None:
    """Add the planning tools to ``app``."""

    async def task_keys(scope: Scope) -> dict[Ref, str]:
        """Every task of the project by key and by id, mapped to its key."""
        tasks = await box.store.list_tasks(scope.project_id)
        return {**{t.key: t.key for t in tasks}, **{t.id: t.key for t in tasks}}

    async def create_epic(
        name: Annotated[str, Field(min_length=1, max_length=200, description="The epic's name.")],
        ctx: Ctx,
        key: Key = None,
        description: Annotated[str, Field(description="What the epic delivers.")] = "",
        priority: Annotated[
            int, Field(ge=PRIORITY_MIN, le=PRIORITY_MAX, description="Lower runs first.")
        ] = 0,
        depends_on: Annotated[
            list[Ref],
            Field(description="Epics (keys or ids) all of whose tasks must be done first."),
        ] = [],  # noqa: B006  (FastMCP copies defaults per call; the schema shows [])
    ) -> dict[str, Any]:
        """Create an epic (a group of tasks). Every task of it waits for every task of the epics
        in depends_on."""
        scope = box.scope(ctx)
        scope.check_planning("create_epic")
        epics = await box.store.list_epics(scope.project_id)
        chosen = _check_key(key) if key else slug(name, {e.key for e in epics})
        if any(e.key == chosen for e in epics):
            raise PlanError(f"epic {chosen}", "key", "an epic with this key already exists")
        deps = await box.epic_ids(scope, depends_on)
        epic = await box.store.create_epic(
            scope.project_id,
            chosen,
            name,
            description=description,
            priority=priority,
            depends_on=deps,
        )
        keys = {e.id: e.key for e in [*epics, epic]}
        return {"epic": epic_view(epic, keys)}

    async def create_task(
        epic: Annotated[Ref, Field(description="The epic it belongs to (key or id).")],
        title: Annotated[str, Field(min_length=1, max_length=300, description="What it achieves.")],
        ctx: Ctx,
        key: Key = None,
        description: Annotated[str, Field(description="What to build, how to verify it.")] = "",
        depends_on: DependsOn = [],  # noqa: B006
        dependency_type: Annotated[
            Literal["hard", "soft"],
            Field(description="hard: wait for depends_on; soft: only prefer to run after them."),
        ] = "hard",
        priority: Annotated[
            int,
            Field(
                ge=PRIORITY_MIN, le=PRIORITY_MAX, description="Lower runs first among ready tasks."
            ),
        ] = 0,
        estimate_minutes: Annotated[
            float,
            Field(
                gt=0,
                le=MAX_ESTIMATE_MINUTES,
                allow_inf_nan=False,
                description="Rough duration in minutes.",
            ),
        ] = 1.0,
        task_type: Annotated[
            str | None,
            Field(
                description="A label such as 'api', 'ui', 'test', 'docs' (inferred from the"
                " title and description when omitted)."
            ),
        ] = None,
        model: Annotated[
            str | None,
            Field(
                description="Pin the model of every attempt: a tier ('haiku', 'sonnet', 'opus')"
                " or a Claude model id ('claude-opus-4-5'); omitted: chosen by cost and"
                " complexity."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Create one task in an epic, with the tasks it depends on. Refused, naming them, when a
        dependency is unknown or would create a cycle."""
        scope = box.scope(ctx)
        scope.check_planning("create_task")
        found = await box.epic(scope, epic)
        keys = await task_keys(scope)
        chosen = _check_key(key) if key else slug(title, set(keys.values()))
        if chosen in keys:
            raise PlanError(f"task {chosen}", "key", "a task with this key already exists")
        pinned = _pin(chosen, model)
        deps = await box.task_ids(scope, depends_on)
        task = await box.store.create_task(
            scope.project_id,
            found.id,
            chosen,
            title,
            description=description,
            priority=priority,
            estimate_minutes=estimate_minutes,
            task_type=task_type or infer_task_type(title, description),
            depends_on=deps,
            dependency_type=dependency_type,
            pinned_model=pinned,
        )
        return {"task": await box.view(scope, task)}

    async def expand_epic(
        epic: Annotated[Ref, Field(description="The epic to add the tasks to (key or id).")],
        tasks: Annotated[
            list[TaskDraft], Field(min_length=1, max_length=200, description="The new tasks.")
        ],
        ctx: Ctx,
    ) -> dict[str, Any]:
        """Break an epic down: add several tasks at once, all or none. A task may depend on
        tasks that already exist or on others in the same call (by key)."""
        scope = box.scope(ctx)
        scope.check_planning("expand_epic")
        found = await box.epic(scope, epic)
        keys = await task_keys(scope)
        taken = set(keys.values())
        drafts: list[NewTask] = []
        for draft in tasks:
            chosen = _check_key(draft.key) if draft.key else slug(draft.title, taken)
            taken.add(chosen)
            drafts.append(
                NewTask(
                    key=chosen,
                    title=draft.title,
                    description=draft.description,
                    priority=draft.priority,
                    estimate_minutes=draft.estimate_minutes,
                    task_type=draft.task_type or infer_task_type(draft.title, draft.description),
                    # Ids of existing tasks become their keys; anything else is a key.
                    depends_on=tuple(keys.get(d, str(d)) for d in draft.depends_on),
                    dependency_type=draft.dependency_type,
                    pinned_model=_pin(chosen, draft.model),
                )
            )
        created = await box.edits.add_tasks(scope.project_id, found.id, drafts)
        all_keys = await box.keys(scope)
        return {"tasks": [task_view(t, all_keys.tasks, all_keys.epics) for t in created]}

    async def create_test(
        description: Annotated[str, Field(min_length=1, description="What is checked.")],
        ctx: Ctx,
        task: OwnTaskRef = None,
        category: Annotated[
            str, Field(description="functional, unit, integration, e2e, style…")
        ] = "functional",
        steps: Annotated[list[str], Field(description="How to run the check, step by step.")] = [],  # noqa: B006
    ) -> dict[str, Any]:
        """Add a verification test to a task (a check that proves it is done)."""
        scope = box.scope(ctx)
        found = await box.own_or_given(scope, task)
        scope.check_task_change(found.id, found.key)
        test = await box.store.create_test(found.id, description, category=category, steps=steps)
        return {"test": verification_view(test, found.key)}

    async def mark_project_complete(
        ctx: Ctx,
        summary: Annotated[str, Field(description="What was built, in a few sentences.")] = "",
    ) -> dict[str, Any]:
        """Mark the whole project complete. Refused while any task is not done."""
        scope = box.scope(ctx)
        scope.check_planning("mark_project_complete")
        project = await box.edits.complete_project(scope.project_id, summary)
        return {"project": project_view(project)}

    for fn in (create_epic, create_task, expand_epic, create_test, mark_project_complete):
        add_tool(app, fn, WRITES)
