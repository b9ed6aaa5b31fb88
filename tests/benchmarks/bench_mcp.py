"""Benchmark of the MCP task manager on the embedded PostgreSQL: start-up, call latency, and
how fast N concurrent HTTP clients claim and finish a 100-task dependent plan.

Run: ``.venv/bin/python tests/benchmarks/bench_mcp.py [--clients 1,10,50]``. Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.testing.mcp_clients import call, http_server, http_session, stdio_session
from yokeflow.testing.plans import random_plan
from yokeflow.testing.postgres import create_database, start_embedded_server
from yokeflow_mcp import Scope, SignedTokens
from yokeflow_mcp.launch import stdio_launch

SECRET = "bench-secret-0123456789"


async def _finish_plan(base: str, url: str, clients: int, seed: int) -> tuple[float, int]:
    async with await PostgresStore.connect(url) as store:
        plan = await store.create_plan(
            random_plan(epics=4, tasks_per_epic=25, seed=seed, name=f"bench-{seed}")
        )
    tokens = SignedTokens(SECRET.encode())
    calls = 0

    async def client(index: int) -> None:
        nonlocal calls
        token = tokens.issue(Scope(plan.project.id, worker=f"c{index}"))
        async with http_session(base, token) as session:
            while True:
                nxt = await call(session, "get_next_task", claim=True)
                calls += 1
                if nxt["task"] is None:
                    if "every task is done" in nxt["message"]:
                        return
                    await asyncio.sleep(0.05)
                    continue
                await call(session, "update_task_status", task=nxt["task"]["id"], status="done")
                calls += 1

    began = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return time.monotonic() - began, calls


async def main(client_counts: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="yf-bench-mcp-") as tmp:
        server = start_embedded_server(Path(tmp))
        try:
            url = await create_database(server.admin_url, "bench")
            await migrate(url)
            async with await PostgresStore.connect(url) as store:
                await store.create_plan(random_plan(epics=2, tasks_per_epic=10, name="latency"))

            began = time.monotonic()
            async with stdio_session(stdio_launch("latency", database_url=url)) as session:
                ready = time.monotonic() - began
                samples = []
                for _ in range(50):
                    t0 = time.perf_counter()
                    await call(session, "get_next_task")
                    samples.append(time.perf_counter() - t0)
            print(f"stdio: session ready in {ready:.2f} s")
            print(
                f"stdio: get_next_task median {statistics.median(samples) * 1000:.1f} ms,"
                f" p95 {sorted(samples)[int(len(samples) * 0.95)] * 1000:.1f} ms"
            )

            with http_server(url, SECRET) as base:
                for n, clients in enumerate(client_counts):
                    elapsed, calls = await _finish_plan(base, url, clients, seed=100 + n)
                    print(
                        f"http: {clients:>3} clients finished 100 tasks in {elapsed:6.1f} s,"
                        f" {calls} calls, {calls / elapsed:6.1f} calls/s"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,10,50", help="comma-separated client counts")
    args = parser.parse_args()
    asyncio.run(main([int(c) for c in args.clients.split(",")]))
