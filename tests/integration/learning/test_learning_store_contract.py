"""The learning store's contract, checked on PostgreSQL and on the in-memory fake alike, and the
expertise service on the fake (what the engine's fast tests use)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.core.expertise import Expertise, Lesson, LessonKind
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.task_brief import TaskBrief
from yokeflow.services.learning import EXPERTISE_DIR, ExpertiseService
from yokeflow.testing.fake_learning import InMemoryLearningStore
from yokeflow.testing.fake_store import FakeStore


async def check_conditional_save(store: Any, learning: Any) -> None:
    project = await store.create_project("p")
    first = await learning.save_expertise_if_version(
        project.id, "api", {"lessons": []}, line_count=5, expected_version=None
    )
    assert first is not None
    assert first.version == 1
    assert (
        await learning.save_expertise_if_version(
            project.id, "api", {}, line_count=5, expected_version=None
        )
        is None
    )
    assert (
        await learning.save_expertise_if_version(
            project.id, "api", {}, line_count=5, expected_version=7
        )
        is None
    )
    second = await learning.save_expertise_if_version(
        project.id, "api", {"x": 1}, line_count=6, expected_version=1, validated=True
    )
    assert second is not None
    assert (second.version, second.line_count, second.content) == (2, 6, {"x": 1})
    assert second.validated_at is not None
    row = await store.get_expertise(project.id, "api")
    assert row.version == 2


async def check_outcomes_and_cost_by_task_type(store: Any, learning: Any) -> None:
    plan = Plan(
        name="p",
        epics=[
            Epic(
                key="e",
                name="E",
                tasks=[Task(key="a", title="A", type="api"), Task(key="b", title="B")],
            )
        ],
    )
    stored = await store.create_plan(plan)
    pid = stored.project.id
    a, b = stored.tasks
    for model, task_type, success in [
        ("m1", "api", True),
        ("m1", "api", False),
        ("m1", None, True),
        ("m2", "api", True),
    ]:
        await learning.record_model_outcome(
            pid, model=model, success=success, task_type=task_type, cost_usd=Decimal("0.5")
        )
    other = await store.create_project("other")
    await learning.record_model_outcome(other.id, model="m1", success=False, task_type="api")
    stats = [
        (s.model, s.task_type, s.attempts, s.successes, s.cost_usd)
        for s in await learning.model_outcome_stats(pid)
    ]
    assert stats == [
        ("m1", None, 1, 1, Decimal("0.5")),
        ("m1", "api", 2, 1, Decimal("1.0")),
        ("m2", "api", 1, 1, Decimal("0.5")),
    ]
    everywhere = {(s.model, s.task_type): s.attempts for s in await learning.model_outcome_stats()}
    assert everywhere[("m1", "api")] == 3
    session = await store.start_session(pid, task_id=a.id)
    await store.record_agent_cost(
        pid, model="m1", cost_usd=Decimal("0.3"), session_id=session.id, task_id=a.id
    )
    # A session's cost is recorded once: a repeated report of it changes nothing.
    again = await store.record_agent_cost(
        pid, model="m1", cost_usd=Decimal("0.1"), session_id=session.id, task_id=a.id
    )
    assert again.cost_usd == Decimal("0.3")
    retry = await store.start_session(pid, task_id=a.id)
    await store.record_agent_cost(
        pid, model="m1", cost_usd=Decimal("0.1"), session_id=retry.id, task_id=a.id
    )
    await store.record_agent_cost(pid, model="m1", cost_usd=Decimal("0.2"), task_id=b.id)
    await store.record_agent_cost(pid, model="m1", cost_usd=Decimal("0.2"), task_id=b.id)
    rows = [(t.task_type, t.sessions, t.cost_usd) for t in await learning.cost_by_task_type(pid)]
    assert rows == [("api", 2, Decimal("0.4")), (None, 2, Decimal("0.4"))]


@pytest.mark.postgres
async def test_conditional_save_postgres(
    store: PostgresStore, learning: PostgresLearningStore
) -> None:
    await check_conditional_save(store, learning)


async def test_conditional_save_fake() -> None:
    fake = FakeStore()
    await check_conditional_save(fake, InMemoryLearningStore(fake))


@pytest.mark.postgres
async def test_outcomes_and_cost_by_task_type_postgres(
    store: PostgresStore, learning: PostgresLearningStore
) -> None:
    await check_outcomes_and_cost_by_task_type(store, learning)


async def test_outcomes_and_cost_by_task_type_fake() -> None:
    fake = FakeStore()
    await check_outcomes_and_cost_by_task_type(fake, InMemoryLearningStore(fake))


async def test_the_expertise_service_on_the_fakes() -> None:
    fake = FakeStore()
    learning = InMemoryLearningStore(fake)
    project = await fake.create_project("p")
    services = [ExpertiseService(fake, learning) for _ in range(3)]

    def add(i: int) -> Any:
        def change(e: Expertise) -> tuple[Expertise, str]:
            return e.with_lessons([Lesson(LessonKind.CORE_FILE, f"db/t{i}.sql")]), f"add {i}"

        return change

    results = await asyncio.gather(
        *(services[i % 3].update(project.id, "database", add(i), "learn") for i in range(9))
    )
    assert sorted(r.version for r in results) == list(range(1, 10))
    final = await services[0].get(project.id, "database")
    assert {x.text for x in final.lessons} == {f"db/t{i}.sql" for i in range(9)}
    section = await services[0].prompt_for(
        project.id, TaskBrief("k", "Change the database table db/t3.sql")
    )
    assert section.text.startswith("- **Core file:** `db/t3.sql`")


async def test_a_file_a_person_wrote_from_scratch_is_their_edit(tmp_path: Path) -> None:
    fake = FakeStore()
    service = ExpertiseService(fake, InMemoryLearningStore(fake), repo_dir=tmp_path)
    project = await fake.create_project("p")

    def seed(e: Expertise) -> tuple[Expertise, str]:
        return e.with_lessons([Lesson(LessonKind.TECHNIQUE, "old advice")]), "seed"

    await service.update(project.id, "api", seed, "learn")
    path = tmp_path / EXPERTISE_DIR / "api.md"
    assert "version=1" in path.read_text()
    path.write_text("## Techniques\n- Paginate every list endpoint\n")  # no marker, no title
    seen = await service.get(project.id, "api")
    assert [x.text for x in seen.lessons] == ["Paginate every list endpoint"]
    # a file naming an older version lost a race: the database wins
    await service.update(project.id, "api", seed, "learn")
    path.write_text(path.read_text().replace("version=2", "version=1").replace("old advice", "x"))
    assert {x.text for x in (await service.get(project.id, "api")).lessons} == {
        "Paginate every list endpoint",
        "old advice",
    }
