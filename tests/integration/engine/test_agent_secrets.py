"""Agents hold no secrets: what an agent can see while its siblings run, with the real CLI.

`yokeflow run` (the command, as a user starts it) runs three tasks at once against the scripted
model server, with the database URL (and its password), the MCP token-signing secret and an
unrelated secret in its environment. Each agent's Bash tool waits until all three sessions are
live, then saves its own `env` and every process's `/proc/*/cmdline` (with its working folder, to
tell this run's processes from others on the machine). None of it may hold the
database URL, a signing secret or any bearer token; the command lines must show the other
sessions (so the look was real); the run's private files must be owner-only.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario

pytestmark = [pytest.mark.agent, pytest.mark.timeout(600)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
TASKS = ("alpha", "beta", "gamma")

PLAN = {
    "name": "secrets-check",
    "epics": [
        {
            "key": "probe",
            "name": "Probe",
            "tasks": [
                {"key": key, "title": f"Look around ({key})", "estimate_minutes": 1}
                for key in TASKS
            ],
        }
    ],
}

# Waits (at most 60 s) until every session has started, then looks around.
PROBE = """#!/bin/sh
out="$1"; task="$2"
touch "$out/started-$task"
i=0
while [ "$(ls "$out" | grep -c '^started-')" -lt {count} ] && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i+1))
done
env > "$out/env-$task.txt"
for p in /proc/[0-9]*; do
  printf '%s\t' "$(readlink "$p/cwd" 2>/dev/null)"; tr '\\0' ' ' < "$p/cmdline" 2>/dev/null; echo
done > "$out/cmdline-$task.txt"
"""


def _scenario(probe: Path, out: Path) -> str:
    rules = [
        {
            "task": key,
            "delay_seconds": 0.05,
            "turns": [
                {"tool": "Bash", "input": {"command": f"sh {probe} {out} {key}"}},
                {
                    "tool": "Write",
                    "input": {"file_path": f"{{cwd}}/{key}.txt", "content": f"{key}\n"},
                },
                {"text": "Done."},
            ],
        }
        for key in TASKS
    ]
    return yaml.safe_dump({"rules": rules, "default": [{"text": "Nothing to do."}]})


def test_agents_see_no_database_url_signing_secret_or_token(
    tmp_path: Path, pg_database_url: str
) -> None:
    out = tmp_path / "probe"
    out.mkdir()
    probe = tmp_path / "probe.sh"
    probe.write_text(PROBE.replace("{count}", str(len(TASKS))))
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Test"],
        ["config", "user.email", "test@yokeflow.invalid"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "README.md").write_text("probe\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "initial"], cwd=repo, check=True)
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN))
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    signing_secret = "f" * 24 + "signing-secret-canary"
    unrelated = "unrelated-secret-canary"
    env = {
        **os.environ,
        "YOKEFLOW_DATABASE_URL": pg_database_url,
        "YOKEFLOW_MCP_TOKEN_SECRET": signing_secret,
        "PAYMENTS_API_PASSWORD": unrelated,
        "TMPDIR": str(private_tmp),
    }
    scenario = parse_scenario(_scenario(probe, out), "secrets scenario")
    with ScriptedModelServer(scenario) as server:
        run = subprocess.run(
            [
                YOKEFLOW,
                "run",
                "--repo",
                str(repo),
                "--plan",
                str(plan),
                "--max-concurrency",
                str(len(TASKS)),
                "--model-endpoint",
                server.url,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=500,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout)["merged"] == len(TASKS)

    secrets = [pg_database_url, signing_secret, unrelated, "postgresql://", "postgres://"]
    password = pg_database_url.partition("://")[2].partition("@")[0].partition(":")[2]
    if password:
        secrets.append(password)
    for key in TASKS:
        seen_env = (out / f"env-{key}.txt").read_text()
        names = {line.partition("=")[0] for line in seen_env.splitlines()}
        assert {"PATH", "HOME"} <= names  # the probe really ran `env`
        assert not {n for n in names if n.startswith("YOKEFLOW_")} - {"YOKEFLOW_SESSION_MARKER"}
        assert "PAYMENTS_API_PASSWORD" not in names
        # This run's processes: working in, or naming, the test's folder.
        cmdlines = "\n".join(
            line
            for line in (out / f"cmdline-{key}.txt").read_text().splitlines()
            if str(tmp_path) in line
        )
        for secret in secrets:
            assert secret not in seen_env, (key, secret)
            assert secret not in cmdlines, (key, secret)
        for text in (seen_env, cmdlines):
            assert "yf1." not in text  # no bearer token of any session
            assert "Bearer" not in text
        # Every session was live and visible when this one looked: three CLIs, each given the
        # path of its own MCP config file (in the run's TMPDIR), none the config itself.
        configs = {
            word
            for line in cmdlines.splitlines()
            if "--mcp-config" in line
            for word in line.split()
            if word.startswith(str(private_tmp))
        }
        assert len(configs) == len(TASKS), cmdlines
        assert '"mcpServers"' not in cmdlines
    # The session folders (MCP configs, launchers) are gone with their sessions.
    assert list(private_tmp.glob("yokeflow-session-*")) == []

    # What the run keeps is its owner's alone: the marker (it may hold the database URL) and
    # the transcripts, in folders only the owner may enter.
    state = repo / ".yokeflow"
    marker = state / "project.json"
    assert pg_database_url in marker.read_text()
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    transcripts = sorted((state / "transcripts").glob("*.jsonl"))
    assert len(transcripts) >= len(TASKS)
    for path in transcripts:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (state, state / "transcripts"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
