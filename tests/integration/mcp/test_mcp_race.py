"""Many MCP clients at once claim and finish the tasks of a dependent plan.

The 50-client race runs over streamable HTTP: one server process, 50 concurrent client sessions
in this process. That is the cluster's shape (many agent Jobs, one task manager), and it puts 50
sessions' transactions on the database at once without starting 50 Python interpreters — on a
2-core machine, 50 stdio server processes would measure interpreter start-up, not the claims.
A second, smaller race runs several stdio server processes at once (the local shape).

What must hold, checked against the database's own timestamps:

* every task is done exactly once (one successful "done" answer, one claim: ``attempts == 1``);
* no task started before each of its hard dependencies, and every task of the epics its epic
  depends on, was done;
* every epic was completed exactly once (one ``epic_completed: true`` answer), after its tasks.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from mcp import ClientSession

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.records import EpicStatus, ProjectPlan, TaskStatus
from yokeflow.testing.mcp_clients import ToolCallError, call, http_session, stdio_session
from yokeflow.testing.plans import random_plan
from yokeflow_mcp.launch import stdio_launch

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

CLIENTS = 50


@dataclass
class Ledger:
    """What the clients were told."""

    done: Counter[str] = field(default_factory=Counter)
    finisher: dict[str, str] = field(default_factory=dict)
    epics_completed: Counter[int] = field(default_factory=Counter)
    refused_starts: int = 0
    unexpected: list[str] = field(default_factory=list)
    calls: int = 0
    in_flight: int = 0
    most_in_flight: int = 0


async def _work(
    session: ClientSession,
    ledger: Ledger,
    use_claim: bool,
    rng: random.Random,
    name: str | None = None,
) -> None:
    """Take ready tasks and finish them until the plan is done; ``name``: the token's worker."""
    while True:
        ledger.in_flight += 1
        ledger.most_in_flight = max(ledger.most_in_flight, ledger.in_flight)
        try:
            nxt = await call(session, "get_next_task", claim=use_claim)
            ledger.calls += 1
            task = nxt["task"]
            if task is None:
                if "every task is done" in nxt["message"]:
                    return
            elif not use_claim:
                # Look, then start: several clients see the same task; the row lock lets one win.
                try:
                    await call(session, "start_task", task=task["id"])
                except ToolCallError as refused:
                    # Another client started it first (and may have finished it already).
                    if "already running" not in str(refused) and "not pending" not in str(refused):
                        ledger.unexpected.append(str(refused))
                    ledger.refused_starts += 1
                    task = None
            if task is not None:
                finished = await call(session, "update_task_status", task=task["id"], status="done")
                ledger.calls += 1
                ledger.done[task["key"]] += 1
                # Claims record the session's worker; start_task records none.
                ledger.finisher[task["key"]] = task["claimed_by"] if use_claim else None
                if use_claim and name is not None and task["claimed_by"] != name:
                    ledger.unexpected.append(f"{task['key']} claimed as {task['claimed_by']}")
                if finished["epic_completed"]:
                    ledger.epics_completed[finished["task"]["epic_id"]] += 1
        finally:
            ledger.in_flight -= 1
        if task is None:
            await asyncio.sleep(rng.uniform(0.05, 0.2))


async def _check(store: PostgresStore, plan: ProjectPlan, ledger: Ledger) -> None:
    assert ledger.unexpected == []
    tasks = {t.id: t for t in await store.list_tasks(plan.project.id)}
    epics = {e.id: e for e in await store.list_epics(plan.project.id)}
    assert all(t.status == TaskStatus.DONE for t in tasks.values())
    assert ledger.done == Counter({t.key: 1 for t in tasks.values()})
    assert all(t.attempts == 1 for t in tasks.values()), "a task was claimed twice"
    for task in tasks.values():
        # The session that claimed a task is the one that finished it.
        assert task.claimed_by == ledger.finisher[task.key], task.key
    for task in tasks.values():
        assert task.started_at is not None
        assert task.completed_at is not None
        waited_for = [tasks[d] for d in task.hard_dependencies]
        for epic_id in epics[task.epic_id].depends_on:
            waited_for += [t for t in tasks.values() if t.epic_id == epic_id]
        for dep in waited_for:
            assert dep.completed_at is not None
            assert dep.completed_at <= task.started_at, f"{task.key} started before {dep.key}"
    assert ledger.epics_completed == Counter(dict.fromkeys(epics, 1))
    for epic in epics.values():
        assert epic.status == EpicStatus.DONE
        assert epic.completed_at is not None
        last = max(t.completed_at for t in tasks.values() if t.epic_id == epic.id)  # type: ignore[type-var]
        assert epic.completed_at >= last


async def test_fifty_http_clients_finish_a_dependent_plan_exactly_once(
    mcp_http: str, store: PostgresStore, token_for: Callable[..., str]
) -> None:
    plan = await store.create_plan(
        random_plan(epics=4, tasks_per_epic=25, max_dependencies=3, seed=11, name="race")
    )
    ledger = Ledger()
    ready = asyncio.Event()
    connected = 0

    async def client(index: int) -> None:
        nonlocal connected
        name = f"client-{index}"  # each client has its own token, as each agent Job does
        async with http_session(mcp_http, token_for(plan.project.id, worker=name)) as session:
            connected += 1
            if connected == CLIENTS:
                ready.set()
            await ready.wait()  # every session is open before anyone claims
            await _work(session, ledger, index % 2 == 0, random.Random(index), name)

    began = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(CLIENTS))), timeout=480)
    elapsed = time.monotonic() - began
    await _check(store, plan, ledger)
    assert ledger.most_in_flight > 10, "the clients did not overlap"
    print(
        f"\n{CLIENTS} HTTP clients, {len(plan.tasks)} tasks: {elapsed:.1f} s, {ledger.calls} calls,"
        f" {ledger.refused_starts} refused starts, at most {ledger.most_in_flight} calls in flight"
    )


async def test_several_stdio_servers_share_a_plan_safely(
    pg_database_url: str, store: PostgresStore
) -> None:
    plan = await store.create_plan(
        random_plan(epics=2, tasks_per_epic=10, max_dependencies=2, seed=5, name="race-stdio")
    )
    ledger = Ledger()
    launch = stdio_launch(str(plan.project.id), database_url=pg_database_url)

    async def client(index: int) -> None:
        async with stdio_session(launch) as session:
            await _work(session, ledger, index % 2 == 0, random.Random(index))

    await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(4))), timeout=300)
    await _check(store, plan, ledger)
