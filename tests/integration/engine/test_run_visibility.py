"""What a user sees of a run with a failure: the live lines, the report, `status` and `logs`.

`yokeflow run --spec` as a user starts it (the real CLI against the scripted model server, real
git, real PostgreSQL): a planning session makes four tasks, one of them fails at every attempt
(the model answers HTTP 400), its dependent is blocked, two merge. Then `yokeflow status` must
show the reasons and agree with the report on every count; the live view's last cost must be the
report's (planning included); `yokeflow logs` must render the transcripts readably.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario

pytestmark = [pytest.mark.agent, pytest.mark.timeout(600)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
REFUSAL = "the widget service refused the request"


def _task(key: str, depends_on: list[str]) -> dict[str, Any]:
    return {
        "tool": "mcp__yokeflow__create_task",
        "input": {
            "epic": "work",
            "key": key,
            "title": f"Task {key}",
            "description": f"Write {key}.txt",
            "depends_on": depends_on,
            "estimate_minutes": 1,
        },
    }


def _writes(key: str) -> dict[str, Any]:
    return {
        "task": key,
        "delay_seconds": 0.05,
        "turns": [
            {"tool": "Write", "input": {"file_path": f"{{cwd}}/{key}.txt", "content": f"{key}\n"}},
            {"text": f"{key} written."},
        ],
    }


SCENARIO = {
    "rules": [
        {
            "match": "You are the planning agent of YokeFlow",
            "usage": {"input_tokens": 5000, "output_tokens": 300},
            "turns": [
                {
                    "tool": "mcp__yokeflow__create_epic",
                    "input": {"key": "work", "name": "Work", "description": "", "depends_on": []},
                },
                _task("broken", []),
                _task("after-broken", ["broken"]),
                _task("left", []),
                _task("right", []),
                {"text": "Planned 4 tasks."},
            ],
        },
        {"task": "broken", "turns": [{"error": {"status": 400, "message": REFUSAL}}]},
        _writes("after-broken"),
        _writes("left"),
        _writes("right"),
    ],
    "default": [{"text": "Nothing to do."}],
}


def _yokeflow(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [YOKEFLOW, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_status_logs_and_the_live_view_agree_with_the_report(
    tmp_path: Path, pg_database_url: str
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Test"],
        ["config", "user.email", "test@yokeflow.invalid"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "README.md").write_text("visibility\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "initial"], cwd=repo, check=True)
    spec = tmp_path / "spec.md"
    spec.write_text("# Four files\n\nWrite four files; one of them cannot be written.\n")
    env = {**os.environ, "YOKEFLOW_DATABASE_URL": pg_database_url}
    scenario = parse_scenario(yaml.safe_dump(SCENARIO), "visibility scenario")
    with ScriptedModelServer(scenario) as server:
        run = _yokeflow(
            "run",
            "--repo",
            str(repo),
            "--spec",
            str(spec),
            "--name",
            "visibility",
            "--max-concurrency",
            "3",
            "--model-endpoint",
            server.url,
            "--format",
            "json",
            cwd=tmp_path,
            env=env,
        )
    assert run.returncode == 1, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["failed"] == ["broken"]
    assert report["blocked"] == ["after-broken"]
    assert report["merged"] == 2
    assert REFUSAL in report["reasons"]["broken"]
    assert "broken" in report["reasons"]["after-broken"]

    # The live lines: each failure and block with its reason, and the run's last cost is the
    # report's (planning included).
    live = run.stderr
    assert re.search(rf"failed broken: .*{REFUSAL}", live), live
    assert re.search(r"blocked after-broken: .*broken", live), live[-3000:]
    costs = re.findall(r"cost \$(\d+\.\d{4}) recorded for the project", live)
    assert costs, live[-3000:]
    assert Decimal(costs[-1]) == Decimal(report["cost_usd"]).quantize(Decimal("0.0001"))

    # `status` agrees with the report on every count, and says why.
    shown = _yokeflow("status", "--format", "json", cwd=repo, env=env)
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    counts = status["counts"]
    assert counts["merged"] == report["merged"]
    assert counts["failed"] == len(report["failed"])
    assert counts["blocked"] == len(report["blocked"])
    assert counts["conflict"] == len(report["conflicts"])
    assert sum(counts.values()) == report["tasks"] == 4
    assert Decimal(status["cost_usd"]) == Decimal(report["cost_usd"])
    by_key = {t["key"]: t for t in status["tasks"]}
    assert REFUSAL in by_key["broken"]["error"]
    assert by_key["broken"]["attempts"] == 2  # the default attempt limit
    assert "broken" in by_key["after-broken"]["error"]
    for key in ("left", "right"):
        line = by_key[key]
        assert line["state"] == "merged"
        assert line["error"] is None
        assert line["model"]
        assert line["branch"]
        assert Decimal(line["cost_usd"]) > 0
        assert line["duration_seconds"] > 0
    # Planning is in the project's cost, not in any task's.
    assert sum(Decimal(t["cost_usd"]) for t in status["tasks"]) < Decimal(status["cost_usd"])
    as_text = _yokeflow("status", cwd=repo, env=env)
    assert as_text.returncode == 0, as_text.stderr
    assert REFUSAL in as_text.stdout
    assert "merged 2" in as_text.stdout
    assert "failed 1" in as_text.stdout
    assert "blocked 1" in as_text.stdout

    # `logs` renders a transcript readably: the tool call, its result, how it ended.
    left = _yokeflow("logs", "left", cwd=repo, env=env)
    assert left.returncode == 0, left.stderr
    assert "session of left on" in left.stdout
    assert re.search(r"→ Write: .*left\.txt", left.stdout)
    assert "says: left written." in left.stdout
    assert "session succeeded" in left.stdout
    assert '"kind"' not in left.stdout  # not the raw JSON
    broken = _yokeflow("logs", "broken", "--attempt", "1", cwd=repo, env=env)
    assert broken.returncode == 0, broken.stderr
    assert "session failed" in broken.stdout
    assert REFUSAL in broken.stdout
    followed = _yokeflow("logs", "right", "--follow", cwd=repo, env=env)  # ended: returns
    assert followed.returncode == 0
    assert "session succeeded" in followed.stdout
    raw = _yokeflow("logs", "right", "--raw", cwd=repo, env=env)
    assert all(json.loads(line)["kind"] for line in raw.stdout.splitlines())
    unknown = _yokeflow("logs", "nope", cwd=repo, env=env)
    assert unknown.returncode != 0
    assert "no task 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    too_far = _yokeflow("logs", "left", "--attempt", "5", cwd=repo, env=env)
    assert too_far.returncode != 0
    assert "1 session(s), not 5" in too_far.stderr
