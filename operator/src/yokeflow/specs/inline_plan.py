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
from yokeflow.core.plan import Plan
from yokeflow.errors import PlanError

__all__ = ["plan_problems", "plan_yaml", "to_plan"]

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
