"""A real local run against its lower bound, and the speedup over ``--sequential``.

Builds a plan of 14 tasks over 4 epics (fixed seed, real dependencies) whose scripted sessions
take 20-40 s each (the scripted model's thinking time; real sessions take minutes), runs it twice with the real Claude Code
CLI, real worktrees and merges and the embedded PostgreSQL — in parallel (4 agents, eager) and
sequentially — and prints:

* the parallel run's wall time against ``max(critical path, total work / 4)``, computed both from
  the scripted durations and from the measured session durations (which add the CLI's start-up
  and the merges);
* the same policy simulated on the scripted durations with no overhead at all, so the gap
  splits into what the plan's shape allows and what the engine costs;
* the speedup of the parallel run over the sequential one, measured in the same run.

Run: .venv/bin/python tests/benchmarks/bench_local_run.py   (about 10 minutes here)
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from yokeflow.adapters.postgres import EmbeddedPostgres
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.graph import graph_from_plan
from yokeflow.core.plan import Plan, parse_plan
from yokeflow.core.scenario import parse_scenario
from yokeflow.core.simulation import lower_bound, simulate
from yokeflow.local.run import RunRequest, run_local
from yokeflow.settings import load_settings

CONCURRENCY = 4


def make_plan(seed: int = 11, tasks: int = 14) -> tuple[Plan, dict[str, float]]:
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    epics: list[dict[str, Any]] = [
        {"key": f"e{e}", "name": f"Epic {e}", "tasks": []} for e in range(4)
    ]
    keys: list[str] = []
    for i in range(tasks):
        key = f"t{i:02d}"
        deps = rng.sample(keys, min(len(keys), rng.choice([0, 1, 1, 2]))) if keys else []
        took = round(min(40.0, max(20.0, rng.lognormvariate(3.4, 0.25))), 1)
        seconds[key] = took
        epics[i * 4 // tasks]["tasks"].append(
            {
                "key": key,
                "title": f"Write module {key}",
                "depends_on": deps,
                "estimate_minutes": took / 60,  # right estimates: the scheduler's best case
            }
        )
        keys.append(key)
    text = yaml.safe_dump({"name": "bench", "epics": epics})
    return parse_plan(text, "bench.yaml"), seconds


def make_scenario(plan: Plan, seconds: dict[str, float]) -> str:
    rules = []
    for _, task in plan.tasks():
        turns = [
            {
                "tool": "Write",
                "input": {"file_path": "{cwd}/" + f"{task.key}.txt", "content": f"{task.key}\n"},
            },
            {"tool": "Bash", "input": {"command": f"git add -A && git commit -qm '{task.key}'"}},
            {"text": "done"},
        ]
        rules.append(
            {"task": task.key, "delay_seconds": seconds[task.key] / len(turns), "turns": turns}
        )
    return yaml.safe_dump({"rules": rules})


def run(
    plan: Plan, scenario: str, parallel: bool, workdir: Path, data_dir: Path
) -> tuple[float, dict[str, float]]:
    """The run's wall time and each task's measured session time."""
    repo = workdir / ("parallel" if parallel else "sequential")
    repo.mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "b@example.com"],
        ["config", "user.name", "bench"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "README.md").write_text("bench\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "start"], cwd=repo, check=True)
    settings = load_settings(
        repo,
        environ={},
        overrides={
            "database": {"data_dir": str(data_dir)},
            "parallel": {"enabled": parallel, "max_concurrency": CONCURRENCY},
            "learning": {"enabled": False},
        },
    )
    with ScriptedModelServer(parse_scenario(scenario, "bench")) as server:
        name = plan.name + ("-parallel" if parallel else "-sequential")
        request = RunRequest(repo=repo, plan=plan, name=name, model_endpoint=server.url)
        outcome = asyncio.run(run_local(settings, request, Console(quiet=True)))
    summary = outcome.summary
    if summary.outcome != "succeeded":
        raise SystemExit(
            f"the {'parallel' if parallel else 'sequential'} run did not succeed: {summary.reason}"
        )
    return summary.wall_seconds, dict(summary.task_seconds)


def main() -> int:
    plan, seconds = make_plan()
    scenario = make_scenario(plan, seconds)
    graph = graph_from_plan(plan)
    workdir = Path(tempfile.mkdtemp(prefix="yokeflow-bench-"))
    workdir.chmod(0o755)
    data_dir = workdir / "pg"
    try:
        wall, measured = run(plan, scenario, True, workdir, data_dir)
        sequential, _ = run(plan, scenario, False, workdir, data_dir)
    finally:
        EmbeddedPostgres(data_dir).stop()
        shutil.rmtree(workdir, ignore_errors=True)
    scripted = 60 * lower_bound(graph, CONCURRENCY)  # the estimates are the scripted times
    chain = max(graph.ranks({k: v / 60 for k, v in measured.items()}).values()) * 60
    measured_bound = max(chain, sum(measured.values()) / CONCURRENCY)
    print(f"{len(plan.tasks())} tasks, {CONCURRENCY} agents, scripted sessions of 20-40 s")
    print(f"parallel wall time        {wall:7.1f} s")
    print(f"scripted lower bound      {scripted:7.1f} s   ratio {wall / scripted:.3f}")
    ideal = 60 * simulate(graph, CONCURRENCY).makespan  # the policy with no overhead at all
    print(f"eager, simulated          {ideal:7.1f} s   ratio {wall / ideal:.3f} (engine overhead)")
    print(f"measured lower bound      {measured_bound:7.1f} s   ratio {wall / measured_bound:.3f}")
    print(f"sequential wall time      {sequential:7.1f} s   speedup {sequential / wall:.2f}x")
    ok = wall <= 1.15 * scripted
    print(f"within 15 % of the scripted lower bound: {'OK' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
