"""What a ProjectRun asks for that the API server's schema cannot refuse, in plain sentences.

The schema already refuses missing fields, wrong types, bad enums, out-of-range numbers and
oversized text at ``kubectl apply``. What only the operator can see — a cycle in the inline plan,
a dependency on a key that is not in it, a key used twice, a Secret that does not
exist — comes back from here as :class:`RunProblem`\\ s: a CamelCase reason for programs and one
sentence for people, which the operator puts in the run's ``Planned``/``Ready`` conditions.
Nothing here raises for bad input: a broken manifest is an answer, never a crash.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from yokeflow.api.v1alpha1 import InlinePlan, ProjectRunSpec
from yokeflow.core.graph import DependencyGraph, graph_from_plan
from yokeflow.errors import PlanError
from yokeflow.specs.inline_plan import to_plan

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
    """The resolved dependency graph of an inline plan (raises ``PlanError`` for a key used
    twice; :func:`plan_problems` says so instead).

    Every pass of a run asks again for the same plan; reading a plan of a thousand tasks into the
    engine's models takes a good part of a second, so the answer is kept per plan text (a few
    plans: the runs being served). The graph is immutable, so sharing it is safe."""
    return _graph_of(plan.model_dump_json(by_alias=True))


@functools.lru_cache(maxsize=16)
def _graph_of(plan_json: str) -> DependencyGraph:
    # A PlanError is not kept (lru_cache keeps answers only): a broken plan fails its run anyway.
    return graph_from_plan(to_plan(InlinePlan.model_validate_json(plan_json)))


def plan_problems(plan: InlinePlan) -> list[RunProblem]:
    """Keys used twice, unknown dependencies, unknown epic dependencies and cycles."""
    try:
        graph = inline_graph(plan)
    except PlanError as exc:
        reason = "DuplicateKey" if "used twice" in exc.problem else "InvalidPlan"
        return [RunProblem(reason, f"The plan is invalid: {exc.problem}.")]
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
