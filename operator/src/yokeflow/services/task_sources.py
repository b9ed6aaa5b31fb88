"""Where the runner learns about its task: the database (a run) or a plan file (plan as code)."""

from __future__ import annotations

from yokeflow.core.plan import Plan
from yokeflow.errors import NotFoundError
from yokeflow.ports.store import Store
from yokeflow.services.task_run import TaskSpec

__all__ = ["spec_from_plan", "spec_from_store"]


async def spec_from_store(store: Store, project: str, task_key: str) -> TaskSpec:
    """The task ``task_key`` of the project named (or numbered) ``project``."""
    found = (
        await store.get_project(int(project))
        if project.isdigit()
        else await store.get_project_by_name(project)
    )
    if found is None:
        raise NotFoundError(f"no project {project!r} in the database")
    task = await store.get_task_by_key(found.id, task_key)
    if task is None:
        raise NotFoundError(f"project {found.name!r} has no task {task_key!r}")
    epic = await store.get_epic(task.epic_id)
    dependencies = await store.get_task_dependencies(task.id)
    tests = await store.list_tests(task.id)
    return TaskSpec(
        project_name=found.name,
        key=task.key,
        title=task.title,
        description=task.description,
        epic_key=epic.key if epic is not None else "",
        epic_name=epic.name if epic is not None else "",
        dependencies=tuple((d.key, d.title) for d in dependencies),
        verification_steps=tuple(
            step for test in tests for step in (test.steps or (test.description,))
        ),
        project_id=found.id,
        task_id=task.id,
        expects_changes=task.expects_changes,
    )


def spec_from_plan(plan: Plan, task_key: str, source: str) -> TaskSpec:
    """The task ``task_key`` of a plan (no database: its cost is reported, not recorded)."""
    titles = {task.key: task.title for _, task in plan.tasks()}
    for epic, task in plan.tasks():
        if task.key == task_key:
            keys = [d if isinstance(d, str) else d.key for d in task.depends_on]
            return TaskSpec(
                project_name=plan.name,
                key=task.key,
                title=task.title,
                description=task.description,
                epic_key=epic.key,
                epic_name=epic.name,
                dependencies=tuple((k, titles.get(k, k)) for k in keys),
                expects_changes=task.expects_changes,
            )
    raise NotFoundError(f"{source}: the plan has no task {task_key!r}")
