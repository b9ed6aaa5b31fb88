"""A model pinned on a task in the plan is the model its sessions ask for, and status shows it.

Real parts only: the ``yokeflow`` command, the real Claude Code CLI against the scripted model
server (which records the model of every request), real git, real PostgreSQL. Task ``pinned``
says ``model: opus`` although its complexity alone would run it on Haiku; task ``free`` has no
pin and gets the cost-based choice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.testing.git_repos import make_repository

pytestmark = [pytest.mark.agent, pytest.mark.timeout(300)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))

PLAN = """
name: pinned
epics:
  - key: e
    name: Everything
    tasks:
      - {key: pinned, title: Task pinned, model: opus}
      - {key: free, title: Task free}
"""


def _writes(key: str) -> str:
    return f"""
  - task: {key}
    usage: {{input_tokens: 4000, output_tokens: 200}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/{key}.txt", content: "{key}\\n"}}
      - text: "{key} written."
"""


SCENARIO = "rules:" + _writes("pinned") + _writes("free")


def _yokeflow(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [YOKEFLOW, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def test_a_pinned_task_runs_on_its_model_and_status_shows_the_pin(
    tmp_path: Path, pg_database_url: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"README.md": "zero\n"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    env = {**os.environ, "YOKEFLOW_DATABASE_URL": pg_database_url}

    with ScriptedModelServer(parse_scenario(SCENARIO, "pinned")) as server:
        run = _yokeflow(
            "run",
            "--plan",
            str(plan),
            "--repo",
            str(repo),
            "--max-concurrency",
            "2",
            "--model-endpoint",
            server.url,
            cwd=tmp_path,
            env=env,
        )
        requests = server.requests.turns()
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    models = {task: {r.model for r in requests if r.task == task} for task in ("pinned", "free")}
    assert models["pinned"] == {"claude-opus-4-5"}, models
    assert models["free"], models
    assert "claude-opus-4-5" not in models["free"], models

    status = _yokeflow("status", "--format", "json", cwd=repo, env=env)
    assert status.returncode == 0, status.stderr
    tasks = {t["key"]: t for t in json.loads(status.stdout)["tasks"]}
    assert (tasks["pinned"]["pinned_model"], tasks["pinned"]["model"]) == (
        "opus",
        "claude-opus-4-5",
    )
    assert tasks["free"]["pinned_model"] is None
    text = _yokeflow("status", cwd=repo, env=env)
    assert "opus-4-5 (pinned)" in text.stdout, text.stdout
    listed = _yokeflow("tasks", "list", "--format", "json", cwd=repo, env=env)
    assert listed.returncode == 0, listed.stderr
    pins = {t["key"]: t["pinned_model"] for t in json.loads(listed.stdout)}
    assert pins == {"pinned": "opus", "free": None}
    lines = _yokeflow("tasks", "list", cwd=repo, env=env).stdout.splitlines()
    assert [line.endswith("pinned opus") for line in lines] == [True, False], lines
