"""A ProjectRun's inline plan as the engine's :class:`~yokeflow.core.plan.Plan`, and what is wrong
with it.

The API server already enforced the schema (keys, sizes, unique keys per list); what it cannot
see across lists — a task key used in two epics, a dependency on an unknown task or epic, a
cycle — is found here, each as one sentence the operator puts in the ``Planned`` condition.
"""

from __future__ import annotations

import yaml
from pydantic import ValidationError

from yokeflow.api.v1alpha1 import InlinePlan
from yokeflow.core.graph import graph_from_plan
from yokeflow.core.plan import Plan, Task
from yokeflow.errors import NotFoundError, PlanError

__all__ = ["plan_problems", "plan_yaml", "task_plan", "to_plan"]

SOURCE = "spec.plan"


def to_plan(inline: InlinePlan) -> Plan:
    """The engine's plan of an inline plan; raises :class:`PlanError` for a key used twice."""
    data = {
        "name": inline.name,
        "description": inline.description,
        "epics": [
            {
                "key": epic.key,
                "name": epic.name,
                "description": epic.description,
                "priority": epic.priority,
                "depends_on": list(epic.depends_on),
                "tasks": [
                    {
                        "key": task.key,
                        "title": task.title,
                        "description": task.description,
                        "depends_on": list(task.depends_on),
                        "dependency_type": task.dependency_type,
                        "estimate_minutes": task.estimate_minutes,
                        "priority": task.priority,
                        "type": task.type,
                        "model": task.model,
                    }
                    for task in epic.tasks
                ],
            }
            for epic in inline.epics
        ],
    }
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        raise PlanError(SOURCE, "", message) from None


def plan_problems(inline: InlinePlan) -> list[str]:
    """Every problem of the plan as one sentence (empty when it can run), e.g. ``cycle: a -> b -> a``."""
    try:
        plan = to_plan(inline)
    except PlanError as exc:
        return [exc.problem]
    return graph_from_plan(plan).problems()


def plan_yaml(plan: Plan) -> str:
    """The plan as a plan file (what ``yokeflow runner task --plan`` reads)."""
    return yaml.safe_dump(
        plan.model_dump(mode="json", exclude_defaults=True), sort_keys=False, allow_unicode=True
    )


def task_plan(plan: Plan, key: str) -> Plan:
    """The part of ``plan`` one task's runner reads (the plan file of its Secret): the task in its
    epic, and the tasks it depends on by key and title (for its prompt) — not the whole plan,
    which every task's Secret would otherwise repeat (a thousand tasks: a thousand copies of a
    thousand tasks). Epic dependencies are left out: they were resolved into the schedule."""
    found = next((task for _, task in plan.tasks() if task.key == key), None)
    if found is None:
        raise NotFoundError(f"the plan has no task {key!r}")
    wanted = {key} | {d if isinstance(d, str) else d.key for d in found.depends_on}
    epics = []
    for epic in plan.epics:
        kept = [
            task if task.key == key else Task(key=task.key, title=task.title, type=task.type)
            for task in epic.tasks
            if task.key in wanted
        ]
        if kept:
            epics.append(epic.model_copy(update={"tasks": kept, "depends_on": []}))
    return plan.model_copy(update={"epics": epics})
