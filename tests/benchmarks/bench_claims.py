"""Claims per second: 50 workers claiming and completing tasks through the PostgreSQL store.

Each worker has its own connection and loops claim → complete (no agent work in between), so
the figure is the store's ceiling for task hand-out, lock waits included. Two plans: independent
tasks in one epic (the worst case: every completion takes the epic's row lock until commit, so
completions are serialized), independent tasks in 50 epics, and the 500-task dependent plan of the
race tests (claims must wait for dependencies; idle workers poll every 5-15 ms).

    .venv/bin/python tests/benchmarks/bench_claims.py                 # the embedded PostgreSQL 18
    .venv/bin/python tests/benchmarks/bench_claims.py --server-url postgresql://...  # e.g. PG 15
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore, migrate
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.records import TaskStatus
from yokeflow.testing.plans import random_plan
from yokeflow.testing.postgres import create_database, drop_database


def independent_plan(n: int, epics: int) -> Plan:
    per = n // epics
    return Plan(
        name="independent",
        epics=[
            Epic(
                key=f"e{e}",
                name=f"E{e}",
                tasks=[Task(key=f"e{e}-t{i}", title=f"task {i}") for i in range(per)],
            )
            for e in range(epics)
        ],
    )


async def run(store: PostgresStore, plan: Plan, workers: int) -> tuple[float, list[float]]:
    stored = await store.create_plan(plan)
    pid, total = stored.project.id, len(stored.tasks)
    latencies: list[float] = []
    done = 0

    async def worker(n: int) -> None:
        nonlocal done
        while done < total:
            began = time.perf_counter()
            task = await store.claim_next_task(pid, worker=f"w{n}")
            if task is None:
                await asyncio.sleep(0.005 + 0.01 * random.random())  # nothing ready: back off
                continue
            latencies.append(time.perf_counter() - began)
            await store.complete_task(task.id)
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(workers)))
    elapsed = time.perf_counter() - began
    counts = await store.task_counts(pid)
    assert counts[TaskStatus.DONE] == total, counts
    return total / elapsed, latencies


async def bench(server_url: str, workers: int, tasks: int) -> None:
    name = f"yf_bench_claims_{int(time.time())}"
    url = await create_database(server_url, name)
    try:
        await migrate(url)
        async with await PostgresStore.connect(url, min_size=workers, max_size=workers) as store:
            version = await store.pool.fetchval("SHOW server_version")
            print(f"PostgreSQL {version}, {workers} workers, one connection each")
            for label, plan in (
                (f"{tasks} independent, 1 epic", independent_plan(tasks, 1)),
                (f"{tasks} independent, 50 epics", independent_plan(tasks, 50)),
                ("500 dependent, 10 epics", random_plan(seed=11)),
            ):
                rate, lat = await run(store, plan, workers)
                p50 = statistics.median(lat) * 1000
                p95 = statistics.quantiles(lat, n=20)[-1] * 1000
                print(
                    f"  {label:<28} {rate:8.0f} claims/s "
                    f"(claim+complete; claim latency p50 {p50:.1f} ms, p95 {p95:.1f} ms)"
                )
    finally:
        await drop_database(server_url, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-url", help="a superuser URL; default: a temporary embedded server"
    )
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=2000)
    args = parser.parse_args()
    if args.server_url:
        asyncio.run(bench(args.server_url, args.workers, args.tasks))
        return 0
    with tempfile.TemporaryDirectory(prefix="yf-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data")
        try:
            asyncio.run(bench(server.server_url(), args.workers, args.tasks))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
