"""`yokeflow graph` as a user runs it: the installed console script, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
YOKEFLOW = shutil.which("yokeflow", path=str(Path(sys.executable).parent)) or "yokeflow"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [YOKEFLOW, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_valid_plan_as_json() -> None:
    result = run("graph", str(ROOT / "examples/plans/bookstore.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {
        "batches",
        "task_order",
        "critical_path",
        "critical_path_length",
        "cycles",
        "missing",
        "task_count",
    }
    assert data["task_count"] == 40
    assert sum(len(b) for b in data["batches"]) == 40
    assert data["cycles"] == []
    assert data["missing"] == []
    assert data["critical_path"][0] == "db-schema"
    assert data["critical_path"][-1] == "qa-deploy"
    assert result.stderr == ""


def test_ascii_and_mermaid() -> None:
    ascii_out = run("graph", str(ROOT / "examples/plans/todo-api.yaml"))
    assert ascii_out.returncode == 0
    assert "Batch 1 (1 task)" in ascii_out.stdout
    mermaid = run("graph", str(ROOT / "examples/plans/todo-api.yaml"), "-f", "mermaid")
    assert mermaid.stdout.startswith("flowchart LR")


def test_cycle_and_unknown_key_exit_2_with_the_object_and_a_sentence(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: x\nepics:\n  - key: api\n    name: API\n    tasks:\n"
        "      - {key: api-auth, title: Auth, depends_on: [api-users]}\n"
        "      - {key: api-users, title: Users, depends_on: [api-auth, ghost]}\n"
    )
    result = run("graph", str(plan), "--format", "json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["cycles"] == [["api-auth", "api-users"]]
    assert data["missing"] == [{"task": "api-users", "depends_on": "ghost"}]
    assert "cycle: api-auth -> api-users -> api-auth" in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_malformed_file_exits_2_with_file_and_location(tmp_path: Path) -> None:
    plan = tmp_path / "broken.yaml"
    plan.write_text("name: x\nepics:\n  - key: e\n    nme: E\n")
    result = run("graph", str(plan))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {plan}: line 4 (epics[0].nme): unknown field 'nme'")
    assert "Traceback" not in result.stderr
    missing = run("graph", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_config_show_names_sources(tmp_path: Path) -> None:
    (tmp_path / ".yokeflow.yaml").write_text("parallel:\n  max_concurrency: 6\n")
    result = subprocess.run(
        [YOKEFLOW, "config", "show", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["parallel.max_concurrency"] == {
        "value": 6,
        "source": str(tmp_path / ".yokeflow.yaml"),
    }
    bad = subprocess.run(
        [YOKEFLOW, "config", "show"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "YOKEFLOW_AGENT_MAX_TURNS": "-1"},
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "error: bad value for agent.max_turns (from env YOKEFLOW_AGENT_MAX_TURNS)"
    )


def test_pictures_of_one_epic_and_one_batch() -> None:
    plan = str(ROOT / "examples/plans/bookstore.yaml")
    text = run("graph", plan, "--epic", "orders", "--batch", "5")
    assert text.returncode == 0, text.stderr
    listed = [ln.split()[1] for ln in text.stdout.splitlines() if ln.startswith("  ")]
    assert listed
    assert all(key.startswith("orders-") for key in listed), listed
    mermaid = run("graph", plan, "-f", "mermaid", "-e", "db")
    assert mermaid.returncode == 0
    assert "db_schema" in mermaid.stdout
    assert "web_" not in mermaid.stdout
    unknown = run("graph", plan, "--epic", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: no epic 'nope' in the plan (epics: db, auth, catalog, orders, web, qa)"
    )
    assert run("graph", plan, "--batch", "0").returncode == 2
