"""Resolution time of the dependency graph for 1k, 10k and 100k tasks (about 5 edges per task).

Prints, per size: the best of three times to resolve (batches, order, cycles) plus the critical
path, the time per task, and the growth relative to the smallest size — linear growth keeps the
per-task time flat. Exits 1 when 10k tasks take a second or more.

Run: .venv/bin/python tests/benchmarks/bench_graph.py
"""

from __future__ import annotations

import random
import sys
import time

from yokeflow.core.graph import GraphEpic, GraphTask, resolve

EDGES_PER_TASK = 5
EPIC_SIZE = 50


def make_plan(n: int, seed: int = 7) -> tuple[list[GraphTask], list[GraphEpic]]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        # Dependencies point back up to 2,000 tasks: long chains and wide levels, like real plans.
        pool = range(max(0, i - 2000), i)
        deps = tuple(f"t{j}" for j in rng.sample(pool, min(EDGES_PER_TASK, len(pool))))
        tasks.append(
            GraphTask(
                f"t{i}", f"e{i // EPIC_SIZE}", depends_on=deps, estimate_minutes=rng.randint(1, 30)
            )
        )
    epics = []
    for e in range((n + EPIC_SIZE - 1) // EPIC_SIZE):
        deps = (f"e{e - 2}",) if e >= 2 and rng.random() < 0.2 else ()
        epics.append(GraphEpic(f"e{e}", priority=rng.randint(0, 3), depends_on=deps))
    return tasks, epics


def measure(n: int) -> float:
    tasks, epics = make_plan(n)
    best = float("inf")
    for _ in range(3 if n <= 10_000 else 1):
        start = time.perf_counter()
        graph = resolve(tasks, epics)
        graph.critical_path()
        best = min(best, time.perf_counter() - start)
    assert graph.is_valid
    assert sum(len(b) for b in graph.batches) == n
    return best


def main() -> int:
    sizes = (1_000, 10_000, 100_000)
    times = {n: measure(n) for n in sizes}
    base = times[sizes[0]] / sizes[0]
    print(
        f"{'tasks':>8} {'edges':>8} {'seconds':>9} {'us/task':>8} {'growth vs 1k (per task)':>24}"
    )
    for n in sizes:
        per = times[n] / n
        print(
            f"{n:>8} {n * EDGES_PER_TASK:>8} {times[n]:>9.3f} {per * 1e6:>8.2f} {per / base:>23.2f}x"
        )
    ok = times[10_000] < 1.0
    print(f"10k tasks resolve in {times[10_000]:.3f} s: {'OK' if ok else 'TOO SLOW'} (limit 1 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
