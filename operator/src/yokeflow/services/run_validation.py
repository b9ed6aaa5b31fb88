"""What a ProjectRun asks for that the API server's schema cannot refuse, in plain sentences.

The schema already refuses missing fields, wrong types, bad enums, out-of-range numbers and
oversized text at ``kubectl apply``. What only the operator can see — a cycle in the inline plan,
a dependency on a key that is not in it, the same task key in two epics, a Secret that does not
exist — comes back from here as :class:`RunProblem`\\ s: a CamelCase reason for programs and one
sentence for people, which the operator puts in the run's ``Planned``/``Ready`` conditions.
Nothing here raises for bad input: a broken manifest is an answer, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from yokeflow.api.v1alpha1 import InlinePlan, ProjectRunSpec
from yokeflow.core.graph import DependencyGraph, GraphEpic, GraphTask, resolve

__all__ = ["RunProblem", "inline_graph", "plan_problems", "secret_problems"]


@dataclass(frozen=True, slots=True)
class RunProblem:
    """One reason the run cannot go on as written."""

    reason: str
    """CamelCase, for programs (``CyclicPlan``, ``UnknownDependency``, ``MissingSecret``…)."""
    message: str
    """One sentence, for people."""
    may_resolve: bool = False
    """True when it can go away without an edit of the run (a Secret created later)."""


def inline_graph(plan: InlinePlan) -> DependencyGraph:
    """The resolved dependency graph of an inline plan whose task keys are unique."""
    tasks = [
        GraphTask(
            key=task.key,
            epic=epic.key,
            title=task.title,
            description=task.description,
            depends_on=tuple(task.depends_on) if task.dependency_type == "hard" else (),
            soft_depends_on=tuple(task.depends_on) if task.dependency_type == "soft" else (),
            estimate_minutes=task.estimate_minutes,
            priority=task.priority,
        )
        for epic in plan.epics
        for task in epic.tasks
    ]
    epics = [GraphEpic(e.key, e.name, e.priority, tuple(e.depends_on)) for e in plan.epics]
    return resolve(tasks, epics)


def plan_problems(plan: InlinePlan) -> list[RunProblem]:
    """Duplicate task keys, unknown dependencies, unknown epic dependencies and cycles."""
    seen: dict[str, str] = {}
    duplicates: list[RunProblem] = []
    for epic in plan.epics:
        for task in epic.tasks:
            if task.key in seen and not any(
                p.message.startswith(f"Task {task.key!r}") for p in duplicates
            ):
                duplicates.append(
                    RunProblem(
                        "DuplicateTaskKey",
                        f"Task {task.key!r} appears in epics {seen[task.key]!r} and {epic.key!r}; "
                        "task keys must be unique across the plan.",
                    )
                )
            seen.setdefault(task.key, epic.key)
    if duplicates:
        return duplicates
    graph = inline_graph(plan)
    problems: list[RunProblem] = []
    for missing in graph.missing_deps:
        if missing.epic:
            problems.append(
                RunProblem(
                    "UnknownEpicDependency",
                    f"Epic {missing.task!r} depends on epic {missing.depends_on!r}, which is not in the plan.",
                )
            )
        else:
            problems.append(
                RunProblem(
                    "UnknownDependency",
                    f"Task {missing.task!r} depends on {missing.depends_on!r}, which is not in the plan.",
                )
            )
    for cycle in graph.circular_deps:
        loop = " -> ".join((*cycle, cycle[0]))
        problems.append(RunProblem("CyclicPlan", f"The plan's dependencies form a cycle: {loop}."))
    return problems


async def secret_problems(
    spec: ProjectRunSpec, secret_exists: Callable[[str], Awaitable[set[str] | None]]
) -> list[RunProblem]:
    """Secrets (and keys) the run names that do not exist. ``secret_exists(name)`` returns the
    Secret's keys, or None when there is no such Secret."""
    wanted: list[tuple[str, str | None, str]] = []
    if spec.repository.credentials_secret is not None:
        wanted.append(
            (spec.repository.credentials_secret.name, None, "repository.credentialsSecret")
        )
    if spec.agent.credentials_secret is not None:
        ref = spec.agent.credentials_secret
        wanted.append((ref.name, ref.key, "agent.credentialsSecret"))
    problems: list[RunProblem] = []
    for name, key, field in wanted:
        keys = await secret_exists(name)
        if keys is None:
            problems.append(
                RunProblem(
                    "MissingSecret",
                    f"Secret {name!r} named by {field} does not exist.",
                    may_resolve=True,
                )
            )
        elif key is not None and key not in keys:
            problems.append(
                RunProblem(
                    "MissingSecretKey",
                    f"Secret {name!r} named by {field} has no key {key!r}.",
                    may_resolve=True,
                )
            )
    return problems
