"""Incremental decisions are the same decisions.

* Simulations (``yokeflow simulate``) give exactly the schedules of the scheduler before the
  incremental states — kept verbatim in ``reference/`` — on many random plans, both policies,
  1-8 agents, exact and noisy durations, instant and slow merges.
* ``decide()`` given a :class:`RunStates` kept current through a random run (failures, retries,
  conflicts, blocked and cancelled tasks, resolving merges, budgets, fail-fast, cancellation)
  answers exactly what it answers given a plain mapping with the same contents.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from yokeflow.core import simulation
from yokeflow.core.graph import DependencyGraph, GraphEpic, GraphTask, resolve
from yokeflow.core.run_states import RunStates
from yokeflow.core.schedule import BudgetView, Limits, TaskRun, TaskState, decide


def _load(name: str) -> ModuleType:
    path = Path(__file__).with_name("reference") / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


_load("schedule_before")
before = _load("simulation_before")


def random_plan(seed: int, n: int) -> tuple[list[GraphTask], list[GraphEpic]]:
    rng = random.Random(seed)
    epics_count = rng.randint(1, 6)
    tasks = [
        GraphTask(
            f"t{i}",
            f"e{i * epics_count // n}",
            depends_on=tuple(f"t{j}" for j in rng.sample(range(i), rng.randint(0, min(4, i)))),
            soft_depends_on=tuple(f"t{rng.randrange(n)}" for _ in range(rng.randint(0, 1))),
            estimate_minutes=rng.choice([round(rng.lognormvariate(2.3, 0.6), 2), 5.0, 10.0]),
            priority=rng.randint(0, 2),
        )
        for i in range(n)
    ]
    epics = [
        GraphEpic(
            f"e{e}",
            priority=rng.randint(0, 2),
            depends_on=(f"e{e - 2}",) if e >= 2 and rng.random() < 0.4 else (),
        )
        for e in range(epics_count)
    ]
    return tasks, epics


@pytest.mark.parametrize("chunk", range(4))
def test_simulations_give_the_schedules_of_the_scheduler_before(chunk: int) -> None:
    for seed in range(chunk * 40, chunk * 40 + 40):
        rng = random.Random(seed)
        tasks, epics = random_plan(seed, rng.randint(1, 70))
        graph = resolve(tasks, epics)
        for policy in ("eager", "batches"):
            concurrency = rng.randint(1, 8)
            noise = rng.choice([0.0, 0.0, 0.4])
            took = (
                {t.key: t.estimate_minutes * rng.lognormvariate(0, noise) for t in tasks}
                if noise
                else None
            )
            merge = rng.choice([0.0, 0.0, 0.5])
            new = simulation.simulate(graph, concurrency, policy, took, merge)
            old = before.simulate(graph, concurrency, policy, took, merge)
            assert new.to_dict() == old.to_dict(), (seed, policy, concurrency, noise, merge)


def test_a_larger_simulation_is_unchanged() -> None:
    """Past the rollouts' work budget (over 250 unstarted tasks) and back under it."""
    tasks, epics = random_plan(99, 320)
    graph = resolve(tasks, epics)
    for policy in ("eager", "batches"):
        new = simulation.simulate(graph, 8, policy)
        old = before.simulate(graph, 8, policy)
        assert new.to_dict() == old.to_dict()


def _random_run(rng: random.Random, key: str, current: TaskRun, now: float) -> TaskRun:
    # Dead states (blocked, conflict, out of attempts) rarely, so that most decisions come from
    # the incremental path, which steps aside for them.
    live = [s for s in TaskState if s not in (TaskState.BLOCKED, TaskState.CONFLICT)]
    state = rng.choice(list(TaskState) if rng.random() < 0.1 else live)
    attempts = min(3, current.attempts + rng.randint(0, 1))
    duration = rng.choice([None, None, round(rng.uniform(0.5, 20), 1), current.duration])
    return TaskRun(
        state,
        attempts,
        failed_at=now - rng.uniform(0, 30) if state is TaskState.FAILED else None,
        duration=duration,
        started_at=now - rng.uniform(0, 600) if state is TaskState.RUNNING else None,
    )


def _limits(rng: random.Random) -> Limits:
    return Limits(
        max_concurrency=rng.randint(1, 6),
        schedule=rng.choice(["eager", "batches"]),
        max_attempts=rng.choice([1, 4, 4, 4]),
        retry_backoff=rng.choice([0.0, 5.0]),
        escalate_on_retry=rng.random() < 0.5,
        fail_fast=rng.random() < 0.2,
        hold_for_merges=rng.random() < 0.8,
        cancelled=rng.random() < 0.05,
    )


def _budget(rng: random.Random, graph: DependencyGraph) -> BudgetView | None:
    if rng.random() < 0.6:
        return None
    return BudgetView(
        remaining_usd=rng.uniform(0, 3),
        estimates={k: rng.uniform(0, 1) for k in graph.tasks},
    )


@pytest.mark.parametrize("seed", range(12))
def test_decide_answers_the_same_from_kept_states_and_from_a_mapping(seed: int) -> None:
    rng = random.Random(seed)
    tasks, epics = random_plan(seed, rng.randint(2, 40))
    graph = resolve(tasks, epics)
    kept = RunStates(graph)
    plain: dict[str, TaskRun] = {k: TaskRun() for k in graph.tasks}
    keys = list(graph.tasks)
    now = 1000.0
    steps = 0
    for _ in range(300):
        now += rng.uniform(0, 60)
        # Mostly the run's own moves (start, finish, merge), sometimes anything at all.
        key = rng.choice(keys)
        if rng.random() < 0.25:
            run = _random_run(rng, key, plain[key], now)
        else:
            run = _progress(plain[key], rng, now)
        kept[key] = run
        plain[key] = run
        for _ in range(2):
            limits, budget = _limits(rng), _budget(rng, graph)
            expected: Any = decide(graph, plain, limits, budget, now)
            assert decide(graph, kept, limits, budget, now) == expected, (seed, steps)
            assert decide(graph, RunStates(graph, plain), limits, budget, now) == expected
            steps += 1
    assert dict(kept) == plain


def _progress(run: TaskRun, rng: random.Random, now: float) -> TaskRun:
    nxt = {
        TaskState.PENDING: TaskState.RUNNING,
        TaskState.RUNNING: rng.choice([TaskState.DONE, TaskState.DONE, TaskState.FAILED]),
        TaskState.DONE: TaskState.MERGING,
        TaskState.MERGING: rng.choice([TaskState.MERGED, TaskState.MERGED, TaskState.RESOLVING]),
        TaskState.RESOLVING: rng.choice([TaskState.MERGED] * 4 + [TaskState.CONFLICT]),
        TaskState.FAILED: TaskState.RUNNING,
        TaskState.CONFLICT: TaskState.MERGED,  # resolved by hand
        TaskState.BLOCKED: TaskState.PENDING,
    }.get(run.state, run.state)
    attempts = run.attempts + (nxt is TaskState.RUNNING)
    duration = round(rng.uniform(1, 25), 1) if nxt is TaskState.DONE else run.duration
    return TaskRun(
        nxt,
        attempts,
        failed_at=now if nxt is TaskState.FAILED else None,
        duration=duration,
        started_at=now if nxt is TaskState.RUNNING else run.started_at,
    )
