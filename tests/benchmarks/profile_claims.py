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
* ``EXPLAIN (ANALYZE, BUFFERS)`` of the claim with ``--size`` / 2 tasks pending;
* with ``--triggers``: server CPU per completion while 50 connections complete tasks of the one
  epic at once, with each completion trigger the migrations ever installed (``0030``'s, which
  ``0071`` put back, and ``0070``'s, with and without its advisory witness), alternated over
  ``--rounds`` rounds after a warm-up — concurrency is where the witness's locks differ.

    .venv/bin/python tests/benchmarks/profile_claims.py [--server-url URL] [--size 10000]
        [--triggers [--rounds 3]]
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

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore, load_migrations, migrate
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


def _trigger_function(version: str) -> str:
    """``yokeflow_task_done_changed`` as migration ``version`` defined it."""
    sql = next(m.sql for m in load_migrations() if m.version == version)
    start = sql.index("CREATE OR REPLACE FUNCTION yokeflow_task_done_changed()")
    return sql[start : sql.index("$$;", start) + 3]


def _trigger_variants() -> list[tuple[str, str]]:
    kept, tried = _trigger_function("0030"), _trigger_function("0070")
    two = kept[kept.index("        PERFORM 1 FROM tasks\n        WHERE project_id") :]
    two = two[: two.index("RETURN NULL;")]
    one = tried[tried.index("        UPDATE tasks SET waiting_for = waiting_for + delta\n") :]
    one = one[: one.index("RETURN NULL;")]
    return [
        ("0030/0071 (row-lock witness)", kept),
        ("0070 (advisory witness, 1 statement)", tried),
        ("row-lock witness, 1 statement", kept.replace(two, one)),
    ]


async def compare_triggers(url: str, project_id: int, rounds: int) -> None:
    """Server CPU per completion with 50 connections completing at once, per trigger version."""
    async with await PostgresStore.connect(url, min_size=50, max_size=50) as store:
        conns = [await store.pool.acquire() for _ in range(50)]
        try:
            backends = [await c.fetchval("SELECT pg_backend_pid()") for c in conns]
            variants = _trigger_variants()
            spent: dict[str, list[float]] = {label: [] for label, _ in variants}
            for n in range(rounds + 1):
                for label, function in variants:
                    await conns[0].execute(function)
                    ids = [
                        r["id"]
                        for r in await conns[0].fetch(
                            "UPDATE tasks SET status = 'running' WHERE id IN (SELECT id FROM tasks"
                            " WHERE project_id = $1 AND status = 'pending' ORDER BY id LIMIT 500)"
                            " RETURNING id",
                            project_id,
                        )
                    ]
                    before = sum(_server_ns(b) for b in backends)

                    async def complete(conn: Any, share: list[int]) -> None:
                        for task_id in share:
                            await conn.fetch(CHANGE, task_id)

                    await asyncio.gather(*(complete(c, ids[i::50]) for i, c in enumerate(conns)))
                    if n:  # round 0 warms up
                        used = sum(_server_ns(b) for b in backends) - before
                        spent[label].append(used / len(ids) / 1e3)
            await conns[0].execute(variants[0][1])
        finally:
            for c in conns:
                await store.pool.release(c)
    print("server CPU per completion, 50 connections completing at once (us, each round):")
    for label, values in spent.items():
        shown = " ".join(f"{v:5.0f}" for v in values)
        print(f"  {label:<44} {shown}  median {sorted(values)[len(values) // 2]:5.0f}")


async def profile(server_url: str, size: int, rounds: int = 0) -> None:
    name = f"yf_profile_claims_{int(time.time())}"
    url = await create_database(server_url, name)
    try:
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
                            for r in await conn.fetch(
                                "SELECT id FROM tasks WHERE status = 'running'"
                            )
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
                            await _cpu(
                                conn, backend, [(DIRECT_DONE, (i,)) for i in await running()]
                            ),
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
                task = await store.claim_next_task(pid, worker="w")
                assert task is not None
                before = after
                for _ in range(100):
                    _, task = await store.complete_and_claim(task.id, worker="w")
                    assert task is not None
                await asyncio.sleep(1.5)
                await store.pool.execute("SELECT pg_stat_clear_snapshot()")
                after = await store.pool.fetchval(count)
                print(
                    f"transactions (= round trips) per task through complete_and_claim: "
                    f"{(after - before - 3) / 100:.2f}"
                )
                await store.complete_task(task.id)
                async with store.pool.acquire() as conn, conn.transaction():
                    pending = await conn.fetchval(
                        "SELECT count(*) FROM tasks WHERE project_id = $1 AND status = 'pending'",
                        pid,
                    )
                    lines = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {CLAIM_ONE}", pid, "w")
                    print(f"EXPLAIN ANALYZE of the claim, {pending} tasks pending:")
                    print("\n".join(f"  {r[0]}" for r in lines))
                    raise _Rollback
        except _Rollback:
            pass
        if rounds:
            await compare_triggers(url, pid, rounds)
    finally:
        await drop_database(server_url, name)


class _Rollback(Exception):
    """Leave the EXPLAIN ANALYZE's claim undone."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", help="a superuser URL of a server on this machine")
    parser.add_argument("--size", type=int, default=10000, help="tasks in the plan")
    parser.add_argument(
        "--triggers", action="store_true", help="compare the completion triggers, 50 at once"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --triggers")
    args = parser.parse_args()
    rounds = args.rounds if args.triggers else 0
    if args.server_url:
        asyncio.run(profile(args.server_url, args.size, rounds))
        return 0
    with tempfile.TemporaryDirectory(prefix="yf-profile-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data")
        try:
            asyncio.run(profile(server.server_url(), args.size, rounds))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
