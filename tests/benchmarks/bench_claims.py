"""Claims per second: 50 workers claiming and completing tasks through the PostgreSQL store.

Each worker has its own connection and loops claim → complete (no agent work in between), so
the figure is the store's ceiling for task hand-out, lock waits included; every commit is
durable (``synchronous_commit`` is left on). Three plans at each size (default 500, 2,000 and
10,000 tasks): independent tasks in one epic (every completion is in the same epic), independent
tasks in 50 epics, and a random dependent plan of 10 epics (hard, soft and epic dependencies —
claims must wait; an idle worker polls again after 5-15 ms).

The same run measures the baseline: the claim and completion SQL of the store before
``0030_ready_counts.sql`` (kept below as ``Baseline``), on a database migrated without that file,
and prints the ratio. The baseline slows down as plans grow, so it stops after
``--baseline-seconds`` per plan and is rated on the tasks it finished by then.

    .venv/bin/python tests/benchmarks/bench_claims.py                 # the embedded PostgreSQL 18
    .venv/bin/python tests/benchmarks/bench_claims.py --server-url postgresql://...  # e.g. PG 15
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore, load_migrations, migrate
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.records import TaskStatus
from yokeflow.testing.plans import random_plan
from yokeflow.testing.postgres import create_database, drop_database

Claim = Callable[[int, str], Awaitable[int | None]]
Complete = Callable[[int], Awaitable[object]]


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


class Baseline:
    """The store's claim and completion before the kept counts: a claim tests every pending
    task's dependencies; a completion is four statements and takes its epic's row lock."""

    CLAIM = """
    WITH next AS (
        SELECT t.id FROM tasks t
        WHERE t.project_id = $1 AND t.status = 'pending'
          AND (t.dependency_type <> 'hard' OR NOT EXISTS (
                SELECT 1 FROM unnest(t.depends_on) AS dep(id)
                WHERE (SELECT d.status FROM tasks d WHERE d.id = dep.id) <> 'done'))
          AND NOT EXISTS (
                SELECT 1 FROM epics e
                CROSS JOIN LATERAL unnest(e.depends_on) AS de(id)
                JOIN tasks d ON d.epic_id = de.id
                WHERE e.id = t.epic_id AND d.status <> 'done')
        ORDER BY t.priority, t.position, t.id
        LIMIT 1
        FOR UPDATE OF t SKIP LOCKED
    )
    UPDATE tasks
    SET status = 'running', attempts = tasks.attempts + 1, claimed_by = $2, last_error = NULL,
        started_at = clock_timestamp(), updated_at = clock_timestamp()
    FROM next WHERE tasks.id = next.id
    RETURNING tasks.id, tasks.epic_id
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def claim(self, project_id: int, worker: str) -> int | None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(self.CLAIM, project_id, worker)
            if row is None:
                return None
            await conn.execute(
                "UPDATE epics SET status = 'running' WHERE id = $1 AND status = 'pending'",
                row["epic_id"],
            )
        return int(row["id"])

    async def complete(self, task_id: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.fetchrow("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task_id)
            row = await conn.fetchrow(
                "UPDATE tasks SET status = 'done', completed_at = clock_timestamp(),"
                " updated_at = clock_timestamp() WHERE id = $1 RETURNING epic_id",
                task_id,
            )
            epic = row["epic_id"]
            status = await conn.fetchval("SELECT status FROM epics WHERE id = $1 FOR UPDATE", epic)
            if status != "done" and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE epic_id = $1 AND status <> 'done')",
                epic,
            ):
                await conn.execute(
                    "UPDATE epics SET status = 'done', completed_at = clock_timestamp()"
                    " WHERE id = $1",
                    epic,
                )


async def drain(
    claim: Claim, complete: Complete, project_id: int, total: int, workers: int, limit: float
) -> tuple[int, float, list[float]]:
    """Workers claim and complete until every task is done or ``limit`` seconds passed."""
    latencies: list[float] = []
    done = 0
    began = time.perf_counter()
    deadline = began + limit

    async def worker(n: int) -> None:
        nonlocal done
        while done < total and time.perf_counter() < deadline:
            start = time.perf_counter()
            task = await claim(project_id, f"w{n}")
            if task is None:
                await asyncio.sleep(0.005 + 0.01 * random.random())  # nothing ready: back off
                continue
            latencies.append(time.perf_counter() - start)
            await complete(task)
            done += 1

    await asyncio.gather(*(worker(n) for n in range(workers)))
    return done, time.perf_counter() - began, latencies


async def _new_claim(store: PostgresStore) -> Claim:
    async def claim(project_id: int, worker: str) -> int | None:
        task = await store.claim_next_task(project_id, worker=worker)
        return None if task is None else task.id

    return claim


def _plans(size: int) -> list[tuple[str, Plan]]:
    return [
        ("independent, 1 epic", independent_plan(size, 1)),
        ("independent, 50 epics", independent_plan(size, 50)),
        ("dependent, 10 epics", random_plan(epics=10, tasks_per_epic=size // 10, seed=11)),
    ]


def _line(label: str, done: int, total: int, elapsed: float, lat: list[float]) -> str:
    rate = done / elapsed
    p50 = statistics.median(lat) * 1000
    p95 = statistics.quantiles(lat, n=20)[-1] * 1000 if len(lat) > 1 else p50
    part = "" if done == total else f" ({done} of {total} in {elapsed:.0f} s)"
    return f"{label} {rate:7.0f}/s, claim p50 {p50:5.1f} ms p95 {p95:6.1f} ms{part}"


async def bench(server_url: str, args: argparse.Namespace) -> None:
    stamp = int(time.time())
    new_url = await create_database(server_url, f"yf_bench_claims_{stamp}")
    old_url = await create_database(server_url, f"yf_bench_claims_{stamp}_base")
    with tempfile.TemporaryDirectory(prefix="yf-bench-migrations-") as folder:
        for m in load_migrations():
            if m.version < "0030":
                (Path(folder) / f"{m.version}_{m.name}.sql").write_text(m.sql)
        await migrate(old_url, Path(folder))
    await migrate(new_url)
    workers = args.workers
    try:
        async with await PostgresStore.connect(new_url) as probe:
            version = await probe.pool.fetchval("SHOW server_version")
            durable = await probe.pool.fetchval("SHOW synchronous_commit")
        print(
            f"PostgreSQL {version} (synchronous_commit {durable}), {workers} workers, "
            f"one connection each; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
        for size in args.sizes:
            for label, plan in _plans(size):
                # One pool at a time: the server may allow only ~100 connections.
                async with await PostgresStore.connect(
                    new_url, min_size=workers, max_size=workers
                ) as store:
                    stored = await store.create_plan(plan)
                    total = len(stored.tasks)
                    done, elapsed, lat = await drain(
                        await _new_claim(store),
                        store.complete_task,
                        stored.project.id,
                        total,
                        workers,
                        1e9,
                    )
                    counts = await store.task_counts(stored.project.id)
                    assert counts[TaskStatus.DONE] == total, counts
                new_rate = done / elapsed
                print(f"  {total:>6} {label:<22} new {_line('', done, total, elapsed, lat)}")
                if args.baseline_seconds <= 0:
                    continue
                async with await PostgresStore.connect(
                    old_url, min_size=workers, max_size=workers
                ) as old:
                    baseline = Baseline(old.pool)
                    stored = await old.create_plan(plan)
                    done, elapsed, lat = await drain(
                        baseline.claim,
                        baseline.complete,
                        stored.project.id,
                        total,
                        workers,
                        args.baseline_seconds,
                    )
                print(
                    f"  {'':>6} {'':<22} old {_line('', done, total, elapsed, lat)}"
                    f"  -> new/old {new_rate / (done / elapsed):.2f}x"
                )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        await drop_database(server_url, f"yf_bench_claims_{stamp}")
        await drop_database(server_url, f"yf_bench_claims_{stamp}_base")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-url", help="a superuser URL; default: a temporary embedded server"
    )
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[500, 2000, 10000], help="tasks per plan"
    )
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=15.0,
        help="time given to the baseline per plan (0: skip the baseline)",
    )
    args = parser.parse_args()
    if args.server_url:
        asyncio.run(bench(args.server_url, args))
        return 0
    with tempfile.TemporaryDirectory(prefix="yf-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data")
        try:
            asyncio.run(bench(server.server_url(), args))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
