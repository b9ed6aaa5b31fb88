"""Helpers for tests and benchmarks that run real agent sessions against the scripted model.

``scripted_model(scenario)`` serves a scenario on a free local port; ``git_repository(path)``
makes a repository with one commit; ``runner_for(server)`` is a Claude adapter pointed at the
server. Reusable by any area's tests (runner, scheduler, end-to-end); the same as pytest
fixtures: ``scripted_model_server`` (swap its ``scenario``) and ``agent_repository``. Import
them in a conftest::

    from yokeflow.testing.agents import agent_repository, scripted_model_server  # noqa: F401
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from yokeflow.adapters.claude import ClaudeAgentRunner
from yokeflow.adapters.claude.processes import marked_processes
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import Scenario, parse_scenario

__all__ = [
    "TEST_RUN_VARIABLE",
    "MemorySampler",
    "agent_repository",
    "git",
    "git_repository",
    "rss_bytes",
    "runner_for",
    "scenario",
    "scripted_model",
    "scripted_model_server",
]

_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "YokeFlow Test",
    "GIT_AUTHOR_EMAIL": "test@yokeflow.invalid",
    "GIT_COMMITTER_NAME": "YokeFlow Test",
    "GIT_COMMITTER_EMAIL": "test@yokeflow.invalid",
}


def scenario(text: str) -> Scenario:
    """A scenario from YAML text (errors name ``<test>``)."""
    return parse_scenario(text, "<test>")


@contextmanager
def scripted_model(
    scenario_or_text: Scenario | str, *, record: Path | None = None
) -> Iterator[ScriptedModelServer]:
    """A scripted model server on a free port for the duration of the block."""
    parsed = scenario(scenario_or_text) if isinstance(scenario_or_text, str) else scenario_or_text
    with ScriptedModelServer(parsed, record=record) as server:
        yield server


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output (raises on failure)."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def git_repository(path: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository at ``path`` on branch ``main`` with one commit of ``files``.

    The identity is set in the repository's config, so commits made in it (by an agent's Bash
    tool too) work on machines without a global git identity.
    """
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", _GIT_IDENTITY["GIT_AUTHOR_NAME"])
    git(path, "config", "user.email", _GIT_IDENTITY["GIT_AUTHOR_EMAIL"])
    git(path, "config", "commit.gpgsign", "false")
    for name, content in (files or {"README.md": "# test project\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


TEST_RUN_VARIABLE = "YOKEFLOW_TEST_RUN"
"""The marker the agent tests set to find every process a test left behind; agents inherit it."""


def runner_for(server: ScriptedModelServer, **options: object) -> ClaudeAgentRunner:
    """A Claude adapter whose sessions talk to ``server`` (no credentials needed); its agents
    inherit :data:`TEST_RUN_VARIABLE`, so that a test can find what they left behind."""
    options.setdefault("pass_environment", (TEST_RUN_VARIABLE,))
    return ClaudeAgentRunner(endpoint=server.url, **options)  # type: ignore[arg-type]


def rss_bytes(pid: int) -> int:
    """The resident memory of a process (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class MemorySampler:
    """Samples the memory of the processes carrying ``variable=marker`` in a background thread.

    ``peak_total`` is the largest sum seen at once; ``peak_by_pid`` each process's largest.
    """

    def __init__(self, marker: str, variable: str, interval: float = 0.1) -> None:
        self._marker = marker
        self._variable = variable
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_total = 0
        self.peak_by_pid: dict[int, int] = {}
        self.most_processes = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = marked_processes(self._marker, self._variable)
            sizes = {pid: rss_bytes(pid) for pid in pids}
            self.most_processes = max(self.most_processes, len(pids))
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            for pid, size in sizes.items():
                self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0), size)
            self._stop.wait(self._interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def scripted_model_server() -> Iterator[ScriptedModelServer]:
    """A scripted model server answering "Nothing to do." until a test sets its ``scenario``."""
    with scripted_model(Scenario()) as server:
        yield server


@pytest.fixture
def agent_repository(tmp_path: Path) -> Path:
    """A git repository with one commit (a README), for an agent to work in."""
    return git_repository(tmp_path / "repo")
