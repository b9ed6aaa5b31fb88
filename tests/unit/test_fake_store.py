"""The in-memory Store follows the PostgreSQL store's rules (claims, transitions, epics)."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest

from yokeflow.core.plan import parse_plan
from yokeflow.core.records import EpicStatus, TaskStatus
from yokeflow.errors import InvalidTransitionError, PlanError
from yokeflow.testing.fake_store import FakeStore
from yokeflow.testing.plans import random_plan

PLAN = """
name: shop
epics:
  - key: db
    name: Database
    tasks:
      - {key: schema, title: Schema}
      - {key: seed, title: Seed, depends_on: [schema]}
  - key: api
    name: API
    depends_on: [db]
    tasks:
      - {key: users, title: Users}
"""


async def test_claims_wait_for_task_and_epic_dependencies() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(PLAN, "shop.yaml"))
    pid, ids = stored.project.id, stored.task_ids
    first = await store.claim_next_task(pid)
    assert first is not None
    assert first.key == "schema"
    assert await store.claim_next_task(pid) is None
    await store.complete_task(ids["schema"])
    with pytest.raises(InvalidTransitionError, match="dependencies are done"):
        await store.update_task_status(ids["users"], TaskStatus.RUNNING)
    await store.update_task_status(ids["seed"], TaskStatus.RUNNING)
    change = await store.complete_task(ids["seed"])
    assert change.epic_completed
    assert (await store.get_epic(stored.epic_ids["db"])).status == EpicStatus.DONE  # type: ignore[union-attr]
    users = await store.claim_next_task(pid)
    assert users is not None
    assert users.key == "users"
    with pytest.raises(InvalidTransitionError, match="done to running"):
        await store.update_task_status(ids["seed"], "running")
    with pytest.raises(InvalidTransitionError, match="unknown task status"):
        await store.update_task_status(ids["seed"], "finished")


async def test_cycles_are_refused() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(PLAN, "shop.yaml"))
    ids = stored.task_ids
    with pytest.raises(PlanError, match="cycle"):
        await store.set_task_dependencies(ids["schema"], [ids["seed"]])
    with pytest.raises(PlanError, match="cycle"):
        await store.set_task_dependencies(ids["schema"], [ids["users"]])


async def test_fifty_workers_run_every_task_once() -> None:
    store = FakeStore()
    stored = await store.create_plan(random_plan(epics=5, tasks_per_epic=20, seed=3))
    pid = stored.project.id
    runs: Counter[int] = Counter()
    epics: Counter[int] = Counter()

    async def worker() -> None:
        while True:
            task = await store.claim_next_task(pid)
            if task is None:
                counts = await store.task_counts(pid)
                if counts[TaskStatus.DONE] == len(stored.tasks):
                    return
                await asyncio.sleep(0)
                continue
            runs[task.id] += 1
            await asyncio.sleep(0)
            if (await store.complete_task(task.id)).epic_completed:
                epics[task.epic_id] += 1

    await asyncio.gather(*(worker() for _ in range(50)))
    assert set(runs.values()) == {1}
    assert len(runs) == 100
    assert epics == Counter({e.id: 1 for e in stored.epics})


async def test_costs_sum_by_model() -> None:
    store = FakeStore()
    project = await store.create_project("p")
    await store.record_agent_cost(project.id, model="haiku", cost_usd=0.1, input_tokens=5)
    await store.record_agent_cost(project.id, model="haiku", cost_usd=0.2, operation="merge")
    await store.record_agent_cost(project.id, model="opus", cost_usd=1)
    assert await store.get_project_cost_total(project.id) == Decimal("1.3")
    by_model = {c.model: c for c in await store.get_cost_by_model(project.id)}
    assert by_model["haiku"].calls == 2
    assert by_model["haiku"].cost_usd == Decimal("0.3")
    assert len(await store.get_project_costs(project.id)) == 3


async def test_claim_tasks_takes_several_ready_tasks_in_claim_order() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(PLAN, "shop.yaml"))
    pid, ids = stored.project.id, stored.task_ids
    assert await store.claim_tasks(pid, 0) == []
    assert [t.key for t in await store.claim_tasks(pid, 5, worker="w")] == ["schema"]
    await store.complete_task(ids["schema"])
    await store.update_task_status(ids["seed"], TaskStatus.RUNNING)
    await store.complete_task(ids["seed"])
    taken = await store.claim_tasks(pid, 5, worker="w")
    assert [(t.key, t.status, t.claimed_by) for t in taken] == [("users", TaskStatus.RUNNING, "w")]
    assert await store.claim_tasks(pid, 5) == []


async def test_complete_and_claim_hands_out_what_the_completion_made_ready() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(PLAN, "shop.yaml"))
    pid, ids = stored.project.id, stored.task_ids
    assert (await store.claim_next_task(pid, worker="w")) is not None
    with pytest.raises(InvalidTransitionError):
        await store.complete_and_claim(ids["seed"], worker="w")  # pending: nothing claimed
    change, seed = await store.complete_and_claim(ids["schema"], worker="w")
    assert change.task.status == TaskStatus.DONE
    assert not change.epic_completed
    assert seed is not None
    assert (seed.key, seed.claimed_by) == ("seed", "w")
    change, users = await store.complete_and_claim(ids["seed"], worker="v")
    assert change.epic_completed
    assert users is not None
    assert (users.key, users.claimed_by) == ("users", "v")
    change, none = await store.complete_and_claim(ids["users"])
    assert change.epic_completed
    assert none is None
