"""Random plans with dependencies, for race tests and benchmarks of the store and the scheduler.

Deterministic for a seed. Task dependencies point only at earlier tasks and epic dependencies
only at earlier epics, so every plan is acyclic; a share of the task edges is soft.
"""

from __future__ import annotations

import random

from yokeflow.core.plan import Dependency, Epic, Plan, Task

__all__ = ["random_plan"]


def random_plan(
    *,
    epics: int = 10,
    tasks_per_epic: int = 50,
    max_dependencies: int = 3,
    epic_dependency_chance: float = 0.3,
    soft_share: float = 0.2,
    seed: int = 7,
    name: str = "random",
) -> Plan:
    """A plan of ``epics * tasks_per_epic`` tasks with random hard, soft and epic dependencies."""
    rng = random.Random(seed)
    keys: list[str] = []
    out: list[Epic] = []
    for e in range(epics):
        tasks: list[Task] = []
        for t in range(tasks_per_epic):
            key = f"e{e}-t{t}"
            picks = rng.sample(keys[-60:], min(len(keys[-60:]), rng.randint(0, max_dependencies)))
            deps = [
                Dependency(key=k, type="soft" if rng.random() < soft_share else "hard")
                for k in picks
            ]
            tasks.append(
                Task(
                    key=key,
                    title=f"task {t} of epic {e}",
                    depends_on=list(deps),
                    priority=rng.randint(0, 3),
                    estimate_minutes=rng.choice([1.0, 2.0, 5.0]),
                )
            )
            keys.append(key)
        earlier = [f"e{i}" for i in range(e)]
        depends = [k for k in earlier if rng.random() < epic_dependency_chance / max(1, e) * 2]
        out.append(Epic(key=f"e{e}", name=f"epic {e}", depends_on=depends, tasks=tasks))
    return Plan(name=name, epics=out)
