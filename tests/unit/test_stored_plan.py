"""A plan as the store holds it, back in its file form (what a planned run's task Jobs mount):
the same epics, tasks, dependencies (soft ones typed), pins and types as the plan stored."""

from __future__ import annotations

import pytest

from yokeflow.core.plan import parse_plan
from yokeflow.core.stored_plan import plan_of
from yokeflow.testing.fake_store import FakeStore

PLAN = """
name: shop
epics:
  - key: db
    name: Database
    priority: 1
    tasks:
      - {key: schema, title: Write the schema, type: schema, model: haiku, estimate_minutes: 5}
      - key: seed
        title: Seed data
        expects_changes: false
        depends_on: [schema, {key: docs, type: soft}]
  - key: web
    name: Web
    depends_on: [db]
    tasks:
      - {key: docs, title: Write the docs}
      - {key: pages, title: Pages, depends_on: [seed], priority: 2}
"""


async def test_the_stored_plan_reads_back_as_the_plan_it_was() -> None:
    original = parse_plan(PLAN, "shop.yaml")
    store = FakeStore()
    stored = await store.create_plan(original)
    pid = stored.project.id

    again = plan_of(
        "shop", await store.list_epics(pid), await store.get_tasks_with_dependencies(pid)
    )

    assert again.model_dump() == original.model_dump()
    assert parse_plan(again.model_dump_json(), "again.json") == again


async def test_a_dependency_outside_the_records_is_refused() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(PLAN, "shop.yaml"))
    pid = stored.project.id
    tasks = [t for t in await store.list_tasks(pid) if t.key != "schema"]
    with pytest.raises(ValueError, match="not in the plan"):
        plan_of("shop", await store.list_epics(pid), tasks)
