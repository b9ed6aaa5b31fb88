"""Where a claim's time goes: server and client CPU per statement, transactions, the claim's plan.

Run on a server on this machine (the embedded PostgreSQL 18 by default, or ``--server-url``
for a local one, e.g. Debian's 15): the server time is the CPU time of the connection's backend
process, read from ``/proc/<pid>/schedstat`` around a few hundred calls, so it does not depend on
how loaded the shared machine is (wall-clock latency does). Commits are asynchronous here
(``synchronous_commit = off`` for this connection only) so the figures are CPU, not fsync; the
durable rates are ``bench_claims.py``'s.

Prints, for a plan of ``--size`` independent tasks in one epic:

* microseconds of server and client CPU per call: the claim, the completion, the completion with
  the count triggers switched off (``session_replication_role = replica``: what the triggers
  cost), ``SELECT 1`` and a one-row update by primary key (the least a round trip and a write
  cost), and the claim as it was before (the CTE with ``LIMIT $3``, planned on every call);
* transactions per claim + completion through the store's pool (``pg_stat_database``: every
  round trip outside a transaction block is one, so this counts round trips too);
* ``EXPLAIN (ANALYZE, BUFFERS)`` of the claim with ``--size`` / 2 tasks pending.

    .venv/bin/python tests/benchmarks/profile_claims.py [--server-url URL] [--size 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore, migrate
from yokeflow.adapters.postgres.tasks import CLAIM_MANY, CLAIM_ONE
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.testing.postgres import create_database, drop_database

CALLS = 400
CHANGE = "SELECT (c.task).* FROM yokeflow_change_task_status($1, 'done', '{running}', NULL) c"
CHAIN = "SELECT (c.task).* FROM yokeflow_complete_and_claim($1, '{running}', 'w') c"
DIRECT_DONE = (
    "UPDATE tasks SET status = 'done', completed_at = clock_timestamp() WHERE id = $1 RETURNING *"
)


def _server_ns(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def _cpu(
    conn: Any, backend: int, calls: list[tuple[str, tuple[Any, ...]]]
) -> tuple[float, float]:
    """Server and client CPU microseconds per call."""
    server, client = _server_ns(backend), time.thread_time_ns()
    for sql, params in calls:
        await conn.fetch(sql, *params)
    n = len(calls)
    return (_server_ns(backend) - server) / n / 1e3, (time.thread_time_ns() - client) / n / 1e3


async def profile(server_url: str, size: int) -> None:
    name = f"yf_profile_claims_{int(time.time())}"
    url = await create_database(server_url, name)
    try:
        await migrate(url)
        async with await PostgresStore.connect(url, min_size=1, max_size=1) as store:
            version = await store.pool.fetchval("SHOW server_version")
            plan = Plan(
                name="p",
                epics=[
                    Epic(
                        key="e",
                        name="E",
                        tasks=[Task(key=f"t{i}", title=f"task {i}") for i in range(size)],
                    )
                ],
            )
            pid = (await store.create_plan(plan)).project.id
            await store.pool.execute("VACUUM ANALYZE tasks")
            print(
                f"PostgreSQL {version}, {size} independent tasks, load average "
                f"{os.getloadavg()[0]:.1f}; CPU microseconds per call (server / client):"
            )
            async with store.pool.acquire() as conn:
                backend = await conn.fetchval("SELECT pg_backend_pid()")
                await conn.execute("SET synchronous_commit = off")

                async def running() -> list[int]:
                    return [
                        r["id"]
                        for r in await conn.fetch("SELECT id FROM tasks WHERE status = 'running'")
                    ]

                rows: list[tuple[str, tuple[float, float]]] = []
                claim = await _cpu(conn, backend, [(CLAIM_ONE, (pid, "w"))] * CALLS)
                rows.append(("claim (CLAIM_ONE)", claim))
                ids = await running()
                rows.append(
                    (
                        "completion (yokeflow_change_task_status)",
                        await _cpu(conn, backend, [(CHANGE, (i,)) for i in ids]),
                    )
                )
                await _cpu(conn, backend, [(CLAIM_ONE, (pid, "w"))] * CALLS)
                rows.append(
                    (
                        "completion + next claim (complete_and_claim)",
                        await _cpu(conn, backend, [(CHAIN, (i,)) for i in await running()]),
                    )
                )
                await conn.execute("SET session_replication_role = replica")
                rows.append(
                    (
                        "completion, count triggers off",
                        await _cpu(conn, backend, [(DIRECT_DONE, (i,)) for i in await running()]),
                    )
                )
                await conn.execute("SET session_replication_role = origin")
                rows.append(
                    (
                        "claim as before (LIMIT $3, replanned)",
                        await _cpu(conn, backend, [(CLAIM_MANY, (pid, "w", 1))] * CALLS),
                    )
                )
                await conn.execute("UPDATE tasks SET status = 'done' WHERE status = 'running'")
                rows.append(("SELECT 1", await _cpu(conn, backend, [("SELECT 1", ())] * CALLS)))
                await conn.execute("CREATE TABLE yf_one (id int PRIMARY KEY, n int)")
                await conn.execute("INSERT INTO yf_one VALUES (1, 0)")
                rows.append(
                    (
                        "one-row update by primary key",
                        await _cpu(
                            conn,
                            backend,
                            [("UPDATE yf_one SET n = n + 1 WHERE id = 1", ())] * CALLS,
                        ),
                    )
                )
                await conn.execute("RESET synchronous_commit")
            for label, (server, client) in rows:
                print(f"  {label:<44} {server:6.0f} / {client:4.0f}")

        async with await PostgresStore.connect(url, min_size=1, max_size=1) as store:
            count = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            await asyncio.sleep(1.5)  # statistics are flushed at most once a second
            await store.pool.execute("SELECT pg_stat_clear_snapshot()")
            before = await store.pool.fetchval(count)
            for _ in range(100):
                task = await store.claim_next_task(pid, worker="w")
                assert task is not None
                await store.complete_task(task.id)
            await asyncio.sleep(1.5)
            await store.pool.execute("SELECT pg_stat_clear_snapshot()")
            after = await store.pool.fetchval(count)
            print(
                f"transactions (= round trips) per claim + completion through the store: "
                f"{(after - before - 2) / 100:.2f}"
            )
            async with store.pool.acquire() as conn, conn.transaction():
                pending = await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE project_id = $1 AND status = 'pending'", pid
                )
                lines = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {CLAIM_ONE}", pid, "w")
                print(f"EXPLAIN ANALYZE of the claim, {pending} tasks pending:")
                print("\n".join(f"  {r[0]}" for r in lines))
                raise _Rollback
    except _Rollback:
        pass
    finally:
        await drop_database(server_url, name)


class _Rollback(Exception):
    """Leave the EXPLAIN ANALYZE's claim undone."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", help="a superuser URL of a server on this machine")
    parser.add_argument("--size", type=int, default=10000, help="tasks in the plan")
    args = parser.parse_args()
    if args.server_url:
        asyncio.run(profile(args.server_url, args.size))
        return 0
    with tempfile.TemporaryDirectory(prefix="yf-profile-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data")
        try:
            asyncio.run(profile(server.server_url(), args.size))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
