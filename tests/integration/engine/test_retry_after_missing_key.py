"""A task failed by a missing key, then fixed and ``yokeflow retry``-ed: it and its dependents merge.

Real parts only: the ``yokeflow`` command, the real Claude Code CLI against the scripted model
server, real git, real PostgreSQL. The first run's model server refuses the sessions of task
payments as an API refuses a missing key (HTTP 401 ``authentication_error``): payments fails at
every attempt, checkout (needing payments) is blocked, docs merges. Then the key is fixed (the
model server now answers payments), ``yokeflow retry payments`` and ``yokeflow run --resume``
merge payments and checkout, each exactly once, and docs is not merged again.
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
from yokeflow.testing.git_repos import git, make_repository

pytestmark = [pytest.mark.agent, pytest.mark.timeout(420)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
INTEGRATION = "yokeflow/integration"
MISSING_KEY = "invalid x-api-key"

PLAN = """
name: retried
epics:
  - key: e
    name: Everything
    tasks:
      - {key: payments, title: Task payments}
      - {key: checkout, title: Task checkout, depends_on: [payments]}
      - {key: docs, title: Task docs}
"""


def _writes(key: str) -> str:
    return f"""
  - task: {key}
    delay_seconds: 0.1
    usage: {{input_tokens: 4000, output_tokens: 200}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/{key}.txt", content: "{key}\\n"}}
      - text: "{key} written."
"""


WITHOUT_KEY = (
    "rules:"
    + f"""
  - task: payments
    turns:
      - error: {{status: 401, message: "{MISSING_KEY}"}}
"""
    + _writes("checkout")
    + _writes("docs")
)
WITH_KEY = "rules:" + _writes("payments") + _writes("checkout") + _writes("docs")


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


def _merges(repo: Path, key: str) -> int:
    subjects = git(repo, "log", "--format=%s", INTEGRATION).splitlines()
    return sum(1 for s in subjects if s.startswith("Merge task") and s.endswith(f": Task {key}"))


def test_a_task_failed_by_a_missing_key_merges_with_its_dependent_once_retried(
    tmp_path: Path, pg_database_url: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"README.md": "zero\n"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    env = {**os.environ, "YOKEFLOW_DATABASE_URL": pg_database_url}
    common = ["--repo", str(repo), "--max-concurrency", "3"]

    with ScriptedModelServer(parse_scenario(WITHOUT_KEY, "without the key")) as server:
        first = _yokeflow(
            "run",
            "--plan",
            str(plan),
            *common,
            "--model-endpoint",
            server.url,
            cwd=tmp_path,
            env=env,
        )
    assert first.returncode == 1, first.stdout + first.stderr[-3000:]
    shown = _yokeflow("status", "--format", "json", cwd=repo, env=env)
    assert shown.returncode == 0, shown.stderr
    by_key = {t["key"]: t for t in json.loads(shown.stdout)["tasks"]}
    assert by_key["payments"]["state"] == "failed"
    # The CLI's own words for a refused key, with the status the model server answered.
    assert "Invalid API key" in by_key["payments"]["error"]
    assert "HTTP 401" in by_key["payments"]["error"]
    assert by_key["payments"]["attempts"] == 2  # the default attempt limit: all used up
    assert by_key["checkout"]["state"] == "blocked"
    assert "payments" in by_key["checkout"]["error"]
    assert by_key["docs"]["state"] == "merged"
    assert (_merges(repo, "payments"), _merges(repo, "checkout"), _merges(repo, "docs")) == (
        0,
        0,
        1,
    )

    retried = _yokeflow("retry", "payments", cwd=repo, env=env)
    assert retried.returncode == 0, retried.stderr
    assert "retrying payments" in retried.stdout

    with ScriptedModelServer(parse_scenario(WITH_KEY, "with the key")) as server:
        resumed = _yokeflow(
            "run", "--resume", *common, "--model-endpoint", server.url, cwd=tmp_path, env=env
        )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    assert (_merges(repo, "payments"), _merges(repo, "checkout"), _merges(repo, "docs")) == (
        1,
        1,
        1,
    )
    for key in ("payments", "checkout", "docs"):
        assert git(repo, "show", f"{INTEGRATION}:{key}.txt") == key
    shown = _yokeflow("status", "--format", "json", cwd=repo, env=env)
    assert shown.returncode == 0, shown.stderr
    states = {t["key"]: (t["state"], t["error"]) for t in json.loads(shown.stdout)["tasks"]}
    assert states == {key: ("merged", None) for key in ("payments", "checkout", "docs")}
