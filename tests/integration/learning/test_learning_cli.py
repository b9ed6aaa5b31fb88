"""``yokeflow costs`` and ``yokeflow expertise`` against real PostgreSQL, inside a run's repository
(found through ``.yokeflow/project.json``) and with ``--project``."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.cli.main import app
from yokeflow.core.plan import Epic, Plan, Task
from yokeflow.core.task_brief import TaskBrief
from yokeflow.local.marker import ProjectMarker, write_marker
from yokeflow.services.learning import EXPERTISE_DIR, ExpertiseService

pytestmark = pytest.mark.postgres

FIXTURE = (
    Path(__file__).parents[2] / "unit" / "fixtures" / "adapter_transcript_failure_then_fix.jsonl"
)


async def seed(url: str, repo: Path) -> int:
    async with await PostgresStore.connect(url) as store:
        plan = Plan(
            name="shop",
            epics=[
                Epic(
                    key="db",
                    name="Database",
                    tasks=[
                        Task(key="db-1", title="Create the database schema module", type="schema"),
                        Task(key="db-2", title="Add the orders table", type="schema"),
                    ],
                )
            ],
        )
        stored = await store.create_plan(plan)
        pid = stored.project.id
        task = stored.tasks[0]
        await store.record_agent_cost(
            pid,
            model="claude-haiku-4-5",
            cost_usd=Decimal("0.01365"),
            task_id=task.id,
            input_tokens=8400,
            output_tokens=1050,
        )
        learning = PostgresLearningStore.of(store)
        await learning.record_model_outcome(
            pid, model="claude-haiku-4-5", success=True, task_type="schema"
        )
        service = ExpertiseService(store, learning, repo_dir=repo)
        await service.learn(
            pid, TaskBrief("db-1", task.title), session_id=None, transcript=FIXTURE, success=True
        )
        return pid


@pytest.fixture
def repo(tmp_path: Path, pg_database_url: str) -> tuple[Path, int]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "db").mkdir()
    (repo / "db" / "schema.py").write_text("x")
    pid = asyncio.run(seed(pg_database_url, repo))
    write_marker(repo, ProjectMarker(project="shop", project_id=pid, database_url=pg_database_url))
    return repo, pid


def invoke(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_costs_inside_the_repository(
    repo: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, pid = repo
    monkeypatch.chdir(folder / "db")  # any folder inside the repository
    data = json.loads(invoke(["costs", "--format", "json"]))
    assert data["project"] == "shop"
    assert data["project_id"] == pid
    assert data["total_usd"] == "0.013650"
    assert data["by_model"][0]["model"] == "claude-haiku-4-5"
    assert data["by_task_type"] == [{"task_type": "schema", "sessions": 1, "cost_usd": "0.013650"}]
    assert data["forecast"]["remaining_tasks"] == 2
    text = invoke(["costs"])
    assert f"shop (project {pid}): $0.0137 spent" in text
    assert "Forecast: 2 tasks left" in text


def test_costs_with_project_and_url_anywhere(
    repo: tuple[Path, int], pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pid = repo
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for key in ("shop", str(pid)):
        data = json.loads(
            invoke(["costs", "-f", "json", "--project", key, "--database-url", pg_database_url])
        )
        assert data["project_id"] == pid
    result = CliRunner().invoke(app, ["costs"])
    assert result.exit_code != 0
    assert "no YokeFlow project" in str(result.exception)


def test_expertise_commands(repo: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = repo
    monkeypatch.chdir(folder)
    listing = invoke(["expertise", "list"])
    assert "database" in listing
    assert "v1" in listing
    data = json.loads(invoke(["expertise", "list", "--format", "json"]))
    assert data["domains"][0]["lessons"]["failure"] == 1
    shown = invoke(["expertise", "show", "database"])
    assert shown.startswith("# Expertise: database")
    assert "→ fix: The test expects the table names sorted" in shown
    # a person edits the file; `show` reflects it
    path = folder / EXPERTISE_DIR / "database.md"
    path.write_text(
        path.read_text().replace("## Core files\n", "## Core files\n- `db/missing.py`\n")
    )
    assert "db/missing.py" in invoke(["expertise", "show", "database"])
    validated = invoke(["expertise", "validate"])
    assert (
        "database: validated: 2 missing core files removed" in validated
    )  # tests/ and db/missing.py
    assert "db/missing.py" not in path.read_text()
    improved = invoke(["expertise", "improve", "database"])
    # db/schema.py is the one database-looking file, and validation kept it as a core file
    assert (
        improved.strip()
        == "database: self-improve: 0 core files found (nothing changed) (version 2)"
    )
    (folder / "db" / "models.py").write_text("x")
    improved = invoke(["expertise", "improve", "database"])
    assert improved.strip() == "database: self-improve: 1 core files found (version 3)"
    assert "- `db/models.py`" in path.read_text()
    bad = CliRunner().invoke(app, ["expertise", "show", "nonsense"])
    assert bad.exit_code != 0
    # a misspelt domain is refused, not created empty
    before = invoke(["expertise", "list", "--format", "json"])
    for command in ("validate", "improve"):
        typo = CliRunner().invoke(app, ["expertise", command, "databse"])
        assert typo.exit_code != 0
        assert "unknown domain 'databse'" in str(typo.exception)
        assert "did you mean 'database'?" in str(typo.exception)
    assert invoke(["expertise", "list", "--format", "json"]) == before
