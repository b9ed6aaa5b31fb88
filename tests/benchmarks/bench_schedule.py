"""Scheduling quality on random DAGs: makespan over the lower bound, eager against batches.

For every seed of a fixed set: a random plan of 40 tasks over 5 epics (each task depends on up to
3 earlier ones), lognormal durations, concurrency drawn from 4..8. Prints the average and worst
``makespan / max(critical path, total work / concurrency)`` for both policies, and the average
speedup over running the tasks one after another. Exits 1 when eager averages more than 5 %
above the bound.

With ``--noise SIGMA`` the tasks take their estimate times a lognormal factor (sigma SIGMA)
instead — the scheduler still sees only the estimates, refined as durations are measured — and
the bound is computed on the actual durations: how the policy copes with wrong estimates.

Run: .venv/bin/python tests/benchmarks/bench_schedule.py [--seeds N] [--noise SIGMA]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys

from yokeflow.core.graph import DependencyGraph, GraphTask, resolve
from yokeflow.core.simulation import simulate


def random_graph(seed: int, n: int = 40) -> tuple[list[GraphTask], int]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        k = rng.randint(0, min(3, i))
        deps = tuple(f"t{j}" for j in rng.sample(range(i), k))
        minutes = round(rng.lognormvariate(2.3, 0.6), 2)
        tasks.append(
            GraphTask(f"t{i}", f"e{i * 5 // n}", depends_on=deps, estimate_minutes=minutes)
        )
    return tasks, rng.randint(4, 8)


def actual_bound(graph: DependencyGraph, durations: dict[str, float], concurrency: int) -> float:
    return max(max(graph.ranks(durations).values()), sum(durations.values()) / concurrency)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.0, help="sigma of the estimates' error")
    args = parser.parse_args()
    ratios: dict[str, list[float]] = {"eager": [], "batches": []}
    speedups: dict[str, list[float]] = {"eager": [], "batches": []}
    for seed in range(args.seeds):
        tasks, concurrency = random_graph(seed)
        graph = resolve(tasks)
        rng = random.Random(seed)
        took = {t.key: t.estimate_minutes * rng.lognormvariate(0, args.noise) for t in tasks}
        bound = actual_bound(graph, took, concurrency)
        for policy in ("eager", "batches"):
            result = simulate(graph, concurrency, policy, durations=took)  # type: ignore[arg-type]
            ratios[policy].append(result.makespan / bound)
            speedups[policy].append(result.sequential / result.makespan)
    noise = f", estimates off by a lognormal factor (sigma {args.noise})" if args.noise else ""
    print(f"{args.seeds} random plans of 40 tasks, lognormal durations, concurrency 4-8{noise}")
    print(f"{'policy':>8} {'mean ratio':>11} {'worst':>7} {'above bound':>12} {'speedup':>8}")
    for policy in ("eager", "batches"):
        mean = statistics.fmean(ratios[policy])
        print(
            f"{policy:>8} {mean:>11.4f} {max(ratios[policy]):>7.3f} {(mean - 1) * 100:>11.2f}% "
            f"{statistics.fmean(speedups[policy]):>7.2f}x"
        )
    eager = statistics.fmean(ratios["eager"])
    print(f"eager within 5 % of the lower bound on average: {'OK' if eager <= 1.05 else 'NO'}")
    return 0 if eager <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
