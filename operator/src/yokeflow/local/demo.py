"""``yokeflow demo``: the whole pipeline offline, on the embedded defaults.

It makes a sample repository from ``examples/demo/start``, starts the scripted model server
with the demo's scenario, has the planning agent plan the spec through the MCP task tools, runs
the plan with parallel agents (the real Claude Code CLI) in worktrees, merges everything — one
predicted conflict included, resolved by an agent session — fast-forwards the sample
repository's ``main`` to the result and runs the result's own tests.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.errors import ConfigError
from yokeflow.local.demo_files import DEMO_VERIFY, demo_dir
from yokeflow.local.engine import open_engine
from yokeflow.local.report import RunReport, build_report
from yokeflow.local.run import RunOutcome, RunRequest, execute, prepare_project
from yokeflow.settings import Settings

__all__ = ["DemoResult", "make_sample_repository", "run_demo"]

INTEGRATION = "yokeflow/integration"


@dataclass(frozen=True)
class DemoResult:
    report: RunReport
    repository: Path
    tests_passed: bool
    tests_output: str


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def make_sample_repository(repo: Path) -> Path:
    """A new git repository at ``repo`` holding the demo's start files and spec."""
    if repo.exists() and any(repo.iterdir()):
        raise ConfigError(f"{repo} already exists and is not empty: choose another --workdir")
    shutil.copytree(demo_dir() / "start", repo, dirs_exist_ok=True)
    shutil.copy(demo_dir() / "spec.md", repo / "SPEC.md")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "YokeFlow demo")
    _git(repo, "config", "user.email", "demo@yokeflow.invalid")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Start: README, .gitignore and the spec")
    return repo


def run_demo(settings: Settings, workdir: Path, console: Console) -> DemoResult:
    """Run the demo in a new sample repository under ``workdir``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    repo = make_sample_repository(workdir.resolve() / f"todo-app-{stamp}")
    console.print(f"Sample repository: {repo}")
    scenario_file = demo_dir() / "scenario.yaml"
    scenario = parse_scenario(scenario_file.read_text(encoding="utf-8"), str(scenario_file))
    spec = (demo_dir() / "spec.md").read_text(encoding="utf-8")
    with ScriptedModelServer(scenario) as server:
        console.print(f"Scripted model server: {server.url} (no network, no key)")
        agent = settings.agent.model_copy(
            update={"model_endpoint": server.url, "verify_command": DEMO_VERIFY}
        )
        demo_settings = settings.model_copy(update={"agent": agent})
        outcome = asyncio.run(_run(demo_settings, repo, spec, f"todo-demo-{stamp}", console))
    merged_all = outcome.summary.outcome == "succeeded"
    if merged_all:
        _git(repo, "merge", "-q", "--ff-only", INTEGRATION)
        where = f"{repo} (main fast-forwarded to {INTEGRATION})"
    else:
        where = f"{repo}, branch {INTEGRATION} (unmerged task branches are kept)"
    tests = subprocess.run(
        DEMO_VERIFY.split(), cwd=repo, capture_output=True, text=True, check=False, timeout=600
    )
    concurrency = demo_settings.parallel.agents
    report = build_report(
        outcome.graph, outcome.summary, outcome.costs, concurrency, where, outcome.progress.tasks
    )
    return DemoResult(report, repo, merged_all and tests.returncode == 0, tests.stderr.strip())


async def _run(
    settings: Settings, repo: Path, spec: str, name: str, console: Console
) -> RunOutcome:
    async with open_engine(
        settings, repo, notify=lambda text: console.print(text, markup=False, highlight=False)
    ) as engine:
        project = await prepare_project(engine, RunRequest(repo, spec=spec, name=name), console)
        return await execute(engine, project, console)
