"""ExpertiseService on real PostgreSQL: learn, prompt, concurrent saves, a person's edits,
validation, self-improvement and the line limit."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.core.expertise import Expertise, Lesson, LessonKind, Provenance, line_count
from yokeflow.core.task_brief import TaskBrief
from yokeflow.services.learning import EXPERTISE_DIR, ExpertiseService
from yokeflow.settings import LearningSettings

pytestmark = pytest.mark.postgres

FIXTURE = (
    Path(__file__).parents[2] / "unit" / "fixtures" / "adapter_transcript_failure_then_fix.jsonl"
)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
DB_TASK = TaskBrief("db-1", "Create the database schema module", "List the table names")


def service(
    store: PostgresStore,
    learning: PostgresLearningStore,
    repo: Path | None,
    now: datetime = NOW,
    **settings: object,
) -> ExpertiseService:
    return ExpertiseService(
        store,
        learning,
        LearningSettings(**settings),  # type: ignore[arg-type]
        repo_dir=repo,
        clock=lambda: now,
    )


def edit_session(path: str, key: str) -> list[str]:
    """A small successful session (adapter transcript shape) that writes one file."""
    return [
        json.dumps({"kind": "request", "cwd": "/w"}),
        json.dumps(
            {
                "kind": "message",
                "message": {
                    "type": "AssistantMessage",
                    "content": [
                        {
                            "type": "ToolUseBlock",
                            "id": key,
                            "name": "Write",
                            "input": {"file_path": f"/w/{path}", "content": "x"},
                        }
                    ],
                },
            }
        ),
        json.dumps(
            {
                "kind": "message",
                "message": {
                    "type": "UserMessage",
                    "content": [
                        {
                            "type": "ToolResultBlock",
                            "tool_use_id": key,
                            "content": "ok",
                            "is_error": None,
                        }
                    ],
                },
            }
        ),
        json.dumps({"kind": "result", "result": {"success": True}}),
    ]


async def test_a_session_teaches_the_next_one_of_its_domain(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    svc = service(store, learning, tmp_path)
    outcome = await svc.learn(
        project.id, DB_TASK, session_id=None, transcript=FIXTURE, success=True
    )
    assert outcome.domain == "database"
    assert outcome.saved is not None
    assert (outcome.saved.version, outcome.saved.attempts) == (1, 1)
    row = await store.get_expertise(project.id, "database")
    assert row is not None
    assert row.line_count == line_count(Expertise.from_content("database", row.content))
    (update,) = await store.list_expertise_updates(row.id)
    assert update.change_type == "learn"
    assert update.diff is not None
    assert "+- `python3 -m pytest" in update.diff
    # the readable file, with the version it was written from
    text = (tmp_path / EXPERTISE_DIR / "database.md").read_text()
    assert "version=1" in text
    assert "AssertionError" in text

    second = TaskBrief(
        "db-2", "Add an orders table to the database schema", "Keep table names sorted"
    )
    prompt = await svc.prompt_for(project.id, second)
    assert prompt.domain == "database"
    assert "The test expects the table names sorted" in prompt.text
    # another domain gets nothing from it
    assert (
        await svc.prompt_for(project.id, TaskBrief("ui-1", "Build the React login page"))
    ).text == ""


async def test_concurrent_sessions_never_lose_a_lesson(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    # separate "processes", each with its own in-process lock: only the version check helps
    svcs = [service(store, learning, tmp_path, self_improve_interval=0) for _ in range(4)]
    outcomes = await asyncio.gather(
        *(
            svcs[i % 4].learn(
                project.id,
                DB_TASK,
                session_id=None,
                transcript=edit_session(f"db/table_{i}.sql", f"t{i}"),
            )
            for i in range(16)
        )
    )
    saved = [o.saved for o in outcomes if o.saved is not None]
    assert len(saved) == 16
    assert sorted(s.version for s in saved) == list(range(1, 17))
    assert max(s.attempts for s in saved) > 1, "no save was contended: the test proves nothing"
    final = await svcs[0].get(project.id, "database")
    files = {x.text for x in final.of_kind(LessonKind.CORE_FILE)}
    assert {f"db/table_{i}.sql" for i in range(16)} <= files
    text = (tmp_path / EXPERTISE_DIR / "database.md").read_text()
    assert "version=16" in text


async def test_a_persons_edit_of_the_file_is_picked_up(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    svc = service(store, learning, tmp_path)
    await svc.learn(project.id, DB_TASK, session_id=None, transcript=FIXTURE, success=True)
    path = tmp_path / EXPERTISE_DIR / "database.md"
    edited = path.read_text().replace(
        "## Techniques\n", "## Techniques\n- Always name tables in the plural\n"
    )
    edited = (
        "\n".join(line for line in edited.splitlines() if "tests/test_schema.py` _(" not in line)
        + "\n"
    )
    path.write_text(edited)
    seen = await svc.get(project.id, "database")
    assert "Always name tables in the plural" in {x.text for x in seen.lessons}
    assert "tests/test_schema.py" not in {x.text for x in seen.of_kind(LessonKind.CORE_FILE)}
    # the next change stores the edit and records it
    await svc.learn(
        project.id, DB_TASK, session_id=None, transcript=edit_session("db/more.sql", "m")
    )
    row = await store.get_expertise(project.id, "database")
    assert row is not None
    stored = Expertise.from_content("database", row.content)
    assert "Always name tables in the plural" in {x.text for x in stored.lessons}
    assert [u.change_type for u in await store.list_expertise_updates(row.id)] == [
        "learn",
        "edit",
        "learn",
    ]
    # a stale file (older version) is not mistaken for an edit
    path.write_text(
        path.read_text()
        .replace(f"version={row.version}", "version=1")
        .replace("- Always name tables in the plural\n", "")
    )
    assert "Always name tables in the plural" in {
        x.text for x in (await svc.get(project.id, "database")).lessons
    }


async def test_validate_prunes_missing_files_and_stale_failures(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "schema.py").write_text("x")
    old = (NOW - timedelta(days=45)).date()
    svc = service(store, learning, tmp_path)

    def seed(e: Expertise) -> tuple[Expertise, str]:
        return e.with_lessons(
            [
                Lesson(LessonKind.CORE_FILE, "db/schema.py"),
                Lesson(LessonKind.CORE_FILE, "db/gone.py"),
                Lesson(LessonKind.FAILURE, "old failure", provenance=Provenance(date=old)),
                Lesson(LessonKind.FAILURE, "new failure", provenance=Provenance(date=NOW.date())),
            ]
        ), "seed"

    await svc.update(project.id, "database", seed, "edit")
    result = await svc.validate_expertise(project.id, "database")
    texts = {x.text for x in result.expertise.lessons}
    assert texts == {"db/schema.py", "new failure"}
    assert "1 missing core files removed, 1 stale failures pruned" in result.summary
    row = await store.get_expertise(project.id, "database")
    assert row is not None
    assert row.validated_at is not None
    assert result.expertise.validated_at == NOW


async def test_self_improve_lists_the_domains_files(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    for rel in (
        "db/migrations/0001_init.sql",
        "app/models.py",
        "web/App.tsx",
        "node_modules/x/schema.sql",
        "README.md",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    svc = service(store, learning, tmp_path)
    result = await svc.self_improve(project.id, "database")
    files = [x.text for x in result.expertise.of_kind(LessonKind.CORE_FILE)]
    assert files == ["db/migrations/0001_init.sql", "app/models.py"]
    # learning runs it every `self_improve_interval` sessions
    svc2 = service(store, learning, tmp_path, self_improve_interval=2)
    first = await svc2.learn(
        project.id, DB_TASK, session_id=None, transcript=edit_session("db/a.sql", "a")
    )
    second = await svc2.learn(
        project.id, DB_TASK, session_id=None, transcript=edit_session("db/b.sql", "b")
    )
    assert first.improved is None
    assert second.improved is not None


async def test_the_line_limit_holds_in_the_database_and_the_file(
    store: PostgresStore, learning: PostgresLearningStore, tmp_path: Path
) -> None:
    project = await store.create_project("shop")
    svc = service(store, learning, tmp_path, expertise_max_lines=20)
    for i in range(30):
        await svc.learn(
            project.id, DB_TASK, session_id=None, transcript=edit_session(f"db/t{i}.sql", f"k{i}")
        )
    row = await store.get_expertise(project.id, "database")
    assert row is not None
    assert row.line_count <= 20
    assert len((tmp_path / EXPERTISE_DIR / "database.md").read_text().splitlines()) <= 20
    kept = Expertise.from_content("database", row.content)
    assert "db/t29.sql" in {x.text for x in kept.lessons}  # the newest survive
