"""Learning with real sessions: the real Claude Code CLI against the scripted model server.

Session 1 (task db-1) writes a module and its test, the test fails, the model explains, edits,
and the test passes. Its transcript becomes lessons. Session 2 (task db-2, same domain) gets
those lessons in its prompt — asserted from the requests the scripted server recorded. Then
stale failures are pruned and the line limit holds, on the lessons of those real sessions.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.adapters.prompt_files import load_prompts
from yokeflow.adapters.task_checkout import GitTaskCheckout
from yokeflow.core.expertise import Expertise, LessonKind, line_count, retention
from yokeflow.core.plan import parse_plan
from yokeflow.core.task_brief import TaskBrief
from yokeflow.services.learning import EXPERTISE_DIR, ExpertiseService
from yokeflow.services.task_run import TaskRunConfig, TaskSpec, run_task
from yokeflow.services.task_sources import spec_from_store
from yokeflow.settings import LearningSettings
from yokeflow.testing.agents import git_repository, runner_for, scripted_model

pytestmark = [pytest.mark.agent, pytest.mark.postgres, pytest.mark.timeout(300)]

# The test runs with the interpreter running these tests (it has pytest), not whatever
# `python3` is first on the PATH.
PYTEST = f"{sys.executable} -m pytest -q tests/test_schema.py"
# The sessions run with CI empty: with CI set, pytest prints a full diff instead of its summary,
# and the scenario keeps only the last lines of its output.
SESSION_ENV = {"CI": "", "BUILD_NUMBER": ""}
SCENARIO = (
    (Path(__file__).parents[2] / "unit" / "fixtures" / "transcript_failure_then_fix.scenario.yaml")
    .read_text()
    .replace("python3 -m pytest -q tests/test_schema.py", PYTEST)
)
SCENARIO += """
  - task: db-2
    usage: {input_tokens: 900, output_tokens: 80}
    turns:
      - tool: Write
        input: {file_path: "{cwd}/db/orders.py", content: "ORDERS = 'orders'\\n"}
      - tool: Bash
        input: {command: "python3 -c 'import db.orders'", description: "Import the module"}
      - text: "Added db/orders.py."
"""
PLAN = """
name: shop
epics:
  - key: db
    name: Database
    tasks:
      - key: db-1
        title: Create the database schema module
        description: List the table names in db/schema.py, with a test.
      - key: db-2
        title: Add the orders table to the database schema
        description: Define the orders table next to the schema module.
        depends_on: [db-1]
"""
NOW = datetime.now(UTC)
FORTY_DAYS_AGO = NOW - timedelta(days=40)


def brief(spec: TaskSpec) -> TaskBrief:
    return TaskBrief(spec.key, spec.title, spec.description)


async def run_session(
    store: PostgresStore,
    server: object,
    repo: Path,
    spec: TaskSpec,
    expertise: str,
    domain: str,
    transcript: Path,
) -> dict[str, object]:
    report = await run_task(
        spec,
        TaskRunConfig(
            worktree=repo,
            model="claude-haiku-4-5",
            transcript_path=transcript,
            expertise=expertise,
            domain=domain,
            env=SESSION_ENV,
        ),
        agent=runner_for(server),  # type: ignore[arg-type]
        checkout=GitTaskCheckout(repo),
        prompts=load_prompts(),
        costs=store,
        sessions=store,
    )
    assert report.success, report.error
    return report.to_dict()


async def test_a_failure_and_its_fix_reach_the_next_session(
    pg_database_url: str, tmp_path: Path
) -> None:
    repo = git_repository(tmp_path / "repo", {"README.md": "# shop\n"})
    async with await PostgresStore.connect(pg_database_url) as store:
        learning = PostgresLearningStore.of(store)
        stored = await store.create_plan(parse_plan(PLAN, "plan.yaml"))
        pid = stored.project.id
        first_spec = await spec_from_store(store, "shop", "db-1")
        second_spec = await spec_from_store(store, "shop", "db-2")
        # Session 1 happened 40 days ago (for the pruning check at the end).
        then = ExpertiseService(store, learning, repo_dir=repo, clock=lambda: FORTY_DAYS_AGO)
        now = ExpertiseService(store, learning, repo_dir=repo, clock=lambda: NOW)

        with scripted_model(SCENARIO) as server:
            before = await then.prompt_for(pid, brief(first_spec))
            assert (before.domain, before.text) == ("database", "")
            transcript1 = tmp_path / "db-1.jsonl"
            report1 = await run_session(
                store, server, repo, first_spec, before.text, before.domain, transcript1
            )
            learned = await then.learn(
                pid,
                brief(first_spec),
                session_id=report1["session_id"],  # type: ignore[arg-type]
                transcript=transcript1,
                success=True,
                files_modified=report1["session"]["files_modified"],  # type: ignore[index]
            )
            assert learned.learned.failures == 1
            assert learned.learned.fixed == 1
            failure = next(x for x in learned.learned.lessons if x.kind is LessonKind.FAILURE)
            assert "AssertionError" in failure.text
            assert failure.fix is not None
            assert "The test expects the table names sorted" in failure.fix
            assert failure.provenance.session == str(report1["session_id"])
            assert failure.provenance.task == "db-1"

            given = await now.prompt_for(pid, brief(second_spec))
            assert given.domain == "database"
            assert failure.text in given.text
            transcript2 = tmp_path / "db-2.jsonl"
            report2 = await run_session(
                store, server, repo, second_spec, given.text, given.domain, transcript2
            )

            # What the model was really sent in session 2:
            prompt = server.requests.turns("db-2")[0].prompt or ""
            assert "# Expertise from earlier sessions (database)" in prompt
            assert failure.text in prompt
            assert "The test expects the table names sorted" in prompt
            assert f"Verify with `{PYTEST}` before finishing" in prompt
            # ... and session 1 was not sent anything (there was nothing yet)
            assert "Expertise from earlier sessions" not in (
                server.requests.turns("db-1")[0].prompt or ""
            )

        await now.learn(
            pid,
            brief(second_spec),
            session_id=report2["session_id"],  # type: ignore[arg-type]
            transcript=transcript2,
            success=True,
        )
        merged = await now.get(pid, "database")
        assert {"db/schema.py", "tests/test_schema.py", "db/orders.py"} <= {
            x.text for x in merged.of_kind(LessonKind.CORE_FILE)
        }

        # Pruning: session 1's failure is 40 days old.
        validated = await now.validate_expertise(pid, "database")
        assert not validated.expertise.of_kind(LessonKind.FAILURE)
        assert "1 stale failures pruned" in validated.summary
        assert "Verify with `python3 -c 'import db.orders'` before finishing" in {
            x.text for x in validated.expertise.of_kind(LessonKind.TECHNIQUE)
        }

        # The line limit: learning session 2 again under a 12-line cap.
        capped = ExpertiseService(
            store,
            learning,
            LearningSettings(expertise_max_lines=12),
            repo_dir=repo,
            clock=lambda: NOW,
        )
        result = await capped.learn(
            pid, brief(second_spec), session_id=None, transcript=transcript2, success=True
        )
        assert result.saved is not None
        assert result.saved.removed, "nothing was cut: the limit was not exercised"
        # what went was worth least (kind and age, across kinds): the newest technique stayed
        kept_now = result.saved.expertise.lessons
        newest = max(
            x.provenance.date for x in (*kept_now, *result.saved.removed) if x.provenance.date
        )
        assert max(retention(x, newest) for x in result.saved.removed) <= min(
            retention(x, newest) for x in kept_now
        )
        assert result.saved.expertise.of_kind(LessonKind.TECHNIQUE)
        row = await store.get_expertise(pid, "database")
        assert row is not None
        assert row.line_count <= 12
        assert line_count(Expertise.from_content("database", row.content)) == row.line_count
        assert len((repo / EXPERTISE_DIR / "database.md").read_text().splitlines()) <= 12
        history = [u.change_type for u in await store.list_expertise_updates(row.id)]
        assert history == ["learn", "learn", "validate", "learn"]
