"""``yokeflow run`` killed with SIGKILL at bad moments, then ``yokeflow run --resume``.

Real parts only: the ``yokeflow`` command in a child process, the real Claude Code CLI against
the scripted model server, real git, real PostgreSQL. After each kill the resumed run must merge
every task exactly once, lose no commit, leave no agent of the killed run alive five seconds
after it started, and count what the killed sessions had spent.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.testing.git_repos import git, make_repository

pytestmark = [pytest.mark.agent, pytest.mark.timeout(420)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
INTEGRATION = "yokeflow/integration"
MCP = "mcp__yokeflow__"


def _task_rule(key: str, path: str, content: str, delay: float) -> str:
    return f"""
  - task: {key}
    delay_seconds: {delay}
    usage: {{input_tokens: 5000, output_tokens: 300}}
    turns:
      - tool: Bash
        input: {{command: "touch {path}"}}
      - tool: Read
        input: {{file_path: "{{cwd}}/{path}"}}
      - tool: Write
        input: {{file_path: "{{cwd}}/{path}", content: "{content}\\n"}}
      - tool: Bash
        input: {{command: "git add -A && git commit -qm '{key}: Task {key}' || true"}}
      - tool: {MCP}update_task_status
        input: {{status: done}}
      - text: "{key} done."
"""


TASKS = ("a", "b", "c", "d")
PLAN = """
name: kills
epics:
  - key: e
    name: Everything
    tasks:
      - {key: a, title: Task a}
      - {key: b, title: Task b}
      - {key: c, title: Task c}
      - {key: d, title: Task d, depends_on: [a]}
"""
SCENARIO = "rules:" + "".join(_task_rule(k, f"{k}.txt", k, 1.2) for k in TASKS)

CONFLICTING = ("r1", "r2")
CONFLICT_PLAN = """
name: kills
epics:
  - key: e
    name: Everything
    tasks:
      - {key: r1, title: Task r1}
      - {key: r2, title: Task r2}
"""
CONFLICT_SCENARIO = (
    "rules:"
    + _task_rule("r1", "README.md", "one", 0.5)
    + _task_rule("r2", "README.md", "two", 1.5)
    + """
  - match: You are resolving a merge conflict
    delay_seconds: 2.0
    usage: {input_tokens: 4000, output_tokens: 300}
    turns:
      - tool: Read
        input: {file_path: "{cwd}/README.md"}
      - tool: Write
        input: {file_path: "{cwd}/README.md", content: "one\\ntwo\\n"}
      - text: Resolved.
"""
)

PLANNING_SCENARIO = (
    f"""
rules:
  - match: You are the planning agent of YokeFlow
    delay_seconds: 0.7
    usage: {{input_tokens: 6000, output_tokens: 400}}
    turns:
      - tool: {MCP}create_epic
        input: {{key: e, name: Everything}}
"""
    + "".join(
        f"""      - tool: {MCP}create_task
        input: {{epic: e, key: {k}, title: Task {k}{", depends_on: [a]" if k == "d" else ""}}}
"""
        for k in TASKS
    )
    + "      - text: Planned.\n"
    + "".join(_task_rule(k, f"{k}.txt", k, 0.3) for k in TASKS)
)


class Run:
    """A ``yokeflow run`` child whose output lines are read as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.done = threading.Event()
        self.process = subprocess.Popen(
            [YOKEFLOW, "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line.rstrip("\n"))
        self.done.set()

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError("never saw the line; output:\n" + "\n".join(self.seen))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.done.wait(30)

    def finish(self, timeout: float = 300.0) -> int:
        code = self.process.wait(timeout)
        self.done.wait(30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def _processes_in(root: Path) -> set[int]:
    """Live processes working under ``root`` (agents' CLIs and the commands they run)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and Path(cwd).is_relative_to(root):
            found.add(int(entry.name))
    return found


def _replies(folder: Path, pattern: str, at_least: int = 1) -> int:
    """How many transcripts matching ``pattern`` hold ``at_least`` model replies."""
    count = 0
    for path in folder.glob(pattern):
        try:
            count += path.read_text().count('"type": "AssistantMessage"') >= at_least
        except OSError:
            continue
    return count


@dataclass
class Case:
    name: str
    plan: str | None
    scenario: str
    tasks: tuple[str, ...]
    kill_when: Callable[[str], bool]
    wait_after: float = 0.0
    env: tuple[tuple[str, str], ...] = ()
    lost_spend: bool = True
    """A session was killed part-way: the resumed run must have recorded what it spent."""
    ready: Callable[[Path], bool] = lambda _: True
    """After ``kill_when``: what the transcripts (in the given folder) must show first."""


CASES = [
    Case(
        "with 3 sessions running",
        PLAN,
        SCENARIO,
        TASKS,
        lambda line: " start " in line and " c (" in line,
        ready=lambda t: _replies(t, "*-attempt1.jsonl") >= 3,
    ),
    Case(
        "just after a session ended",
        PLAN,
        SCENARIO,
        TASKS,
        lambda line: " done " in line,
        lost_spend=False,
    ),
    Case(
        "inside a merge",
        PLAN,
        SCENARIO,
        TASKS,
        lambda line: " done " in line,
        wait_after=1.5,
        # Every merge runs the verification: it lasts seconds, and the kill lands inside it.
        env=(("YOKEFLOW_AGENT_VERIFY_COMMAND", "sleep 4"),),
        lost_spend=False,
    ),
    Case(
        "during a conflict resolution",
        CONFLICT_PLAN,
        CONFLICT_SCENARIO,
        CONFLICTING,
        lambda line: ": conflict" in line,
        ready=lambda t: _replies(t, "*-resolve.jsonl") >= 1,
    ),
    Case(
        "during planning",
        None,
        PLANNING_SCENARIO,
        TASKS,
        lambda line: "Planning" in line,
        # Killed with a partial plan: the epic and a task created, more to come.
        ready=lambda t: _replies(t, "planning-1.jsonl", at_least=3) >= 1,
    ),
]


async def _spend_facts(url: str) -> tuple[list[tuple[int, str]], dict[int, int], int]:
    """(id and error of each session closed as lost, session id -> its cost rows of more than
    $0, the number of paid conflict-resolution rows)."""
    async with await PostgresStore.connect(url) as store:
        project = (await store.list_projects())[0]
        sessions = await store.list_sessions(project.id)
        costs = [c for c in await store.list_agent_costs(project.id) if c.cost_usd > 0]
        paid: dict[int, int] = {}
        for cost in costs:
            if cost.session_id is not None:
                paid[cost.session_id] = paid.get(cost.session_id, 0) + 1
        lost = [
            (s.id, f"{s.kind} {s.error} {s.log_path}")
            for s in sessions
            if (s.error or "").startswith("lost")
        ]
        return lost, paid, sum(1 for c in costs if c.operation == "merge")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_run_killed_resumes_merging_everything_once(
    case: Case, tmp_path: Path, pg_database_url: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"README.md": "zero\n"})
    env = {**os.environ, **dict(case.env), "YOKEFLOW_AGENT_MAX_ATTEMPTS": "3"}
    with ScriptedModelServer(parse_scenario(case.scenario, case.name)) as server:
        common = ["--repo", str(repo), "--database-url", pg_database_url]
        common += ["--model-endpoint", server.url, "--max-concurrency", "3"]
        if case.plan is not None:
            (tmp_path / "plan.yaml").write_text(case.plan)
            first = Run(["--plan", str(tmp_path / "plan.yaml"), *common], env)
        else:
            (tmp_path / "spec.md").write_text("# A small app\n\nFour tasks.\n")
            first = Run(["--spec", str(tmp_path / "spec.md"), *common], env)
        first.wait_for(case.kill_when)
        transcripts = repo / ".yokeflow" / "transcripts"
        deadline = time.monotonic() + 120
        while not case.ready(transcripts) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert case.ready(transcripts), "the sessions to kill never got going"
        time.sleep(case.wait_after)
        tips = git(repo, "for-each-ref", "--format=%(objectname)", "refs/heads/yokeflow/").split()
        agents = _processes_in(repo)
        if case.lost_spend:  # sessions are running: the check below is not vacuous
            assert agents, "no agent process was running at the kill"
        first.kill()

        resumed = Run(["--resume", *common], env)
        started = time.monotonic()
        time.sleep(max(0.0, 5.0 - (time.monotonic() - started)))
        survivors = agents & _processes_in(repo)
        assert not survivors, f"agents of the killed run still alive: {survivors}"
        code = resumed.finish()
        output = "\n".join(resumed.seen)
        assert code == 0, output
        assert "run succeeded" in output, output

    # Every task merged exactly once, as the history shows: one merge of its branch.
    subjects = git(repo, "log", "--format=%s", INTEGRATION).splitlines()
    for key in case.tasks:
        merges = [s for s in subjects if s.startswith("Merge task") and s.endswith(f": Task {key}")]
        assert len(merges) == 1, subjects
    files = set(git(repo, "ls-tree", "--name-only", INTEGRATION).split())
    if case.tasks == TASKS:
        assert {f"{k}.txt" for k in TASKS} <= files
        for key in TASKS:  # (a killed attempt's uncommitted files are kept by a commit too)
            assert git(repo, "show", f"{INTEGRATION}:{key}.txt") == key
    else:
        assert git(repo, "show", f"{INTEGRATION}:README.md") == "one\ntwo"
    # No commit lost: every branch tip of the killed run is in the integration branch.
    for tip in tips:
        git(repo, "merge-base", "--is-ancestor", tip, INTEGRATION)
    # What the killed sessions had spent is counted (once: a finished session is never paid
    # twice).
    lost, paid, resolutions = asyncio.run(_spend_facts(pg_database_url))
    assert all(count == 1 for count in paid.values()), paid
    if case.tasks == CONFLICTING:
        assert resolutions >= 2  # the killed resolution session and the one that finished
    elif case.lost_spend:
        assert lost, "no session was recorded as lost"
        assert all(session in paid for session, _ in lost), (lost, paid)


FAILING_SCENARIO = (
    "rules:"
    + _task_rule("a", "a.txt", "a", 0.6)
    + _task_rule("c", "c.txt", "c", 0.6)
    + _task_rule("d", "d.txt", "d", 0.6)
    + f"""
  - task: b
    delay_seconds: 0.3
    usage: {{input_tokens: 3000, output_tokens: 200}}
    turns:
      - tool: {MCP}update_task_status
        input: {{status: failed, error: "the payment API needs a key I do not have"}}
      - text: "I cannot finish this task."
"""
)


def test_an_agent_that_fails_its_own_task_ends_only_that_attempt(
    tmp_path: Path, pg_database_url: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"README.md": "zero\n"})
    (tmp_path / "plan.yaml").write_text(PLAN)
    env = {**os.environ, "YOKEFLOW_AGENT_MAX_ATTEMPTS": "1"}
    with ScriptedModelServer(parse_scenario(FAILING_SCENARIO, "failing")) as server:
        run = Run(
            [
                "--plan",
                str(tmp_path / "plan.yaml"),
                "--repo",
                str(repo),
                "--database-url",
                pg_database_url,
                "--model-endpoint",
                server.url,
                "--max-concurrency",
                "3",
            ],
            env,
        )
        code = run.finish()
    output = "\n".join(run.seen)
    # The run went on: a and c merged, d (needing a) too; only b failed, with its agent's reason.
    assert code == 1, output
    assert "cannot go from" not in output, output
    assert "3/4 tasks merged; 1 failed" in output, output
    assert "the payment API needs a key I do not have" in output, output
    files = set(git(repo, "ls-tree", "--name-only", INTEGRATION).split())
    assert {"a.txt", "c.txt", "d.txt"} <= files
