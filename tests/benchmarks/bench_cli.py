"""The command line as a user runs it: start-up, `yokeflow graph` on 10k tasks, and `simulate`.

Each figure is a fresh process, measured with the operating system's accounting (CPU seconds =
user + system, and peak resident memory); wall time is printed too, but on a shared machine
CPU is the fair figure. Prints:

* ``yokeflow --help``: best CPU of five runs, next to a process that imports every sub-command
  module (what start-up cost before sub-commands were loaded lazily), and the ratio;
* ``yokeflow graph --format json`` on a 10,000-task plan, from a JSON file and from a YAML file;
* ``yokeflow simulate --concurrency 8`` on plans of 1,000 and 10,000 tasks (JSON files, so
  that the figure is the scheduler's), and the growth exponent between them (1.0 is linear).

Exits 1 when a target is missed: --help <= 0.25 s CPU; graph JSON <= 0.4 s, YAML <= 1.0 s, both
<= 100 MB; simulate 10k <= 10 s with a growth exponent <= 1.2.

Run: .venv/bin/python tests/benchmarks/bench_cli.py [--skip-simulate]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
EAGER_IMPORTS = (
    "import yokeflow.cli.main, yokeflow.cli.config_cmd, yokeflow.cli.costs_cmd, "
    "yokeflow.cli.db_cmd, yokeflow.cli.demo_cmd, yokeflow.cli.expertise_cmd, "
    "yokeflow.cli.generate_cmd, yokeflow.cli.graph_cmd, yokeflow.cli.mcp_cmd, "
    "yokeflow.cli.run_cmd, yokeflow.cli.runner_cmd, yokeflow.cli.scripted_model_cmd, "
    "yokeflow.cli.simulate_cmd"
)


@dataclass(frozen=True)
class Run:
    cpu: float
    wall: float
    rss_mb: float


# Linux carries a process's peak memory across fork and exec, so the command is started from a
# small fresh interpreter (not from this one, which holds the plans) and measured there.
MEASURE = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                  time.perf_counter() - start, usage.ru_maxrss / 1024]))
"""


def run(argv: list[str]) -> Run:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=False
    )
    code, cpu, wall, rss = json.loads(done.stdout.splitlines()[-1])
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}: {done.stderr}")
    return Run(cpu, wall, rss)


def best(argv: list[str], times: int) -> Run:
    runs = [run(argv) for _ in range(times)]
    return min(runs, key=lambda r: r.cpu)


def plan(n: int, seed: int = 7) -> dict[str, Any]:
    """A plan of ``n`` tasks in epics of 50, each task depending on up to 5 of the 2,000 before."""
    rng = random.Random(seed)
    epics: list[dict[str, Any]] = []
    for i in range(n):
        if i % 50 == 0:
            e = i // 50
            epic: dict[str, Any] = {"key": f"e{e}", "name": f"Epic {e}", "tasks": []}
            if e >= 2 and rng.random() < 0.2:
                epic["depends_on"] = [f"e{e - 2}"]
            epics.append(epic)
        pool = range(max(0, i - 2000), i)
        deps = [f"t{j}" for j in rng.sample(pool, min(5, len(pool)))]
        epics[-1]["tasks"].append(
            {
                "key": f"t{i}",
                "title": f"Task {i}",
                "description": "Build one part of the application and its tests.",
                "depends_on": deps,
                "estimate_minutes": rng.randint(1, 30),
            }
        )
    return {"name": f"bench-{n}", "epics": epics}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-simulate", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = plan(10_000)
        (folder / "plan.json").write_text(json.dumps(big), encoding="utf-8")
        (folder / "plan.yaml").write_text(yaml.safe_dump(big, sort_keys=False), encoding="utf-8")
        (folder / "small.json").write_text(json.dumps(plan(1_000)), encoding="utf-8")

        help_run = best([YOKEFLOW, "--help"], 5)
        eager = best([sys.executable, "-c", EAGER_IMPORTS], 3)
        print(f"{'what':<44} {'CPU s':>7} {'wall s':>7} {'peak MB':>8} {'target':>16}")

        def row(what: str, r: Run, target: str, met: bool) -> None:
            nonlocal ok
            ok = ok and met
            verdict = "OK" if met else "MISSED"
            print(
                f"{what:<44} {r.cpu:>7.3f} {r.wall:>7.3f} {r.rss_mb:>8.1f} {target:>16} {verdict}"
            )

        row("yokeflow --help", help_run, "<= 0.25 s", help_run.cpu <= 0.25)
        print(
            f"{'  importing every sub-command (before)':<44} {eager.cpu:>7.3f} {eager.wall:>7.3f} "
            f"{eager.rss_mb:>8.1f} {'':>16} --help takes {help_run.cpu / eager.cpu:.2f}x"
        )
        for suffix, limit in (("json", 0.4), ("yaml", 1.0)):
            r = best([YOKEFLOW, "graph", str(folder / f"plan.{suffix}"), "--format", "json"], 3)
            row(
                f"yokeflow graph 10k tasks ({suffix.upper()} file)",
                r,
                f"<= {limit} s, 100 MB",
                r.cpu <= limit and r.rss_mb <= 100,
            )
        if not args.skip_simulate:
            sims = {}
            for n, name in ((1_000, "small.json"), (10_000, "plan.json")):
                argv = [YOKEFLOW, "simulate", str(folder / name), "-c", "8", "--format", "json"]
                sims[n] = best(argv, 1)
            row("yokeflow simulate -c 8, 1k tasks", sims[1_000], "", True)
            row(
                "yokeflow simulate -c 8, 10k tasks", sims[10_000], "<= 10 s", sims[10_000].cpu <= 10
            )
            exponent = math.log(sims[10_000].cpu / sims[1_000].cpu) / math.log(10)
            met = exponent <= 1.2
            ok = ok and met
            print(
                f"simulate growth exponent 1k -> 10k: {exponent:.2f} (target <= 1.2) "
                f"{'OK' if met else 'MISSED'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
