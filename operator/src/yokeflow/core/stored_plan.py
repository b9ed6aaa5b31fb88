"""A plan as the store holds it, back in its file form: what a planning session wrote through
the task manager, for the runners of a cluster run (they read their task from a plan file).

Pure: records in, a :class:`~yokeflow.core.plan.Plan` out.
"""

from __future__ import annotations

from collections.abc import Sequence

from yokeflow.core import plan as plans
from yokeflow.core.records import Epic, Task

__all__ = ["plan_of"]


def plan_of(name: str, epics: Sequence[Epic], tasks: Sequence[Task]) -> plans.Plan:
    """The plan named ``name`` of the stored ``epics`` and ``tasks`` (in their plan order):
    task and epic dependencies become keys, soft ones typed ``soft``; a pinned model, a task
    type and ``expects_changes`` are kept. Raises ``ValueError`` for records no plan can hold
    (no epic, a dependency on a task or epic that is not among them)."""
    epic_keys = {e.id: e.key for e in epics}
    task_keys = {t.id: t.key for t in tasks}
    ordered = sorted(tasks, key=lambda t: (t.position, t.id))

    def task_of(task: Task) -> plans.Task:
        hard = [task_keys[i] for i in task.hard_dependencies]
        soft = [plans.Dependency(key=task_keys[i], type="soft") for i in task.soft_dependencies]
        return plans.Task(
            key=task.key,
            title=task.title,
            description=task.description,
            depends_on=[*hard, *soft],
            estimate_minutes=task.estimate_minutes,
            priority=task.priority,
            type=task.task_type,
            expects_changes=task.expects_changes,
            model=task.pinned_model,
        )

    try:
        return plans.Plan(
            name=name,
            epics=[
                plans.Epic(
                    key=epic.key,
                    name=epic.name,
                    description=epic.description,
                    priority=epic.priority,
                    depends_on=[epic_keys[i] for i in epic.depends_on],
                    tasks=[task_of(t) for t in ordered if t.epic_id == epic.id],
                )
                for epic in sorted(epics, key=lambda e: (e.position, e.id))
            ],
        )
    except KeyError as exc:
        raise ValueError(f"a dependency on {exc.args[0]}, which is not in the plan") from None
