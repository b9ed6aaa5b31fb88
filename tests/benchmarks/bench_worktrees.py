"""Overhead of task isolation: create + merge + cleanup of a worktree on a 10,000-file repository.

Run: ``.venv/bin/python tests/benchmarks/bench_worktrees.py [--files 10000] [--tasks 10]``.
Prints, per phase, the median and worst time of one task done alone, then the wall time of
8 tasks at once (created together, merged through the queue one after another, cleaned up
together) and what that makes per task. Each task commits one small file, as an agent would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from yokeflow.adapters.git import WorktreeManager
from yokeflow.core.merging import MergeStatus
from yokeflow.ports import TaskRef
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
from yokeflow.testing.git_repos import commit_file, git


def build_repository(root: Path, files: int) -> Path:
    """A repository with ``files`` small files in folders of 100, committed once."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "config", "user.name", "Bench")
    for index in range(files):
        folder = root / "src" / f"pkg{index // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module{index % 100:02d}.py").write_text(f"VALUE = {index}\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    git(root, "commit", "-q", "-m", "10k files")
    return root


def raw_git_baseline(repo: Path, rounds: int) -> list[float]:
    """Plain ``git worktree add`` + ``git worktree remove`` (what any worktree tool pays)."""
    spent = []
    for index in range(rounds):
        path = repo / ".worktrees" / f"raw-{index}"
        start = time.perf_counter()
        git(repo, "worktree", "add", "-q", "-b", f"raw-{index}", str(path))
        git(repo, "worktree", "remove", "--force", str(path))
        spent.append(time.perf_counter() - start)
        git(repo, "branch", "-q", "-D", f"raw-{index}")
    return spent


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


async def one_at_a_time(
    manager: WorktreeManager, tasks: int, first_id: int
) -> dict[str, list[float]]:
    phases: dict[str, list[float]] = {"create": [], "merge": [], "cleanup": [], "total": []}
    for task_id in range(first_id, first_id + tasks):
        start = time.perf_counter()
        info = await manager.create_worktree(TaskRef(task_id, f"bench task {task_id}"))
        created = time.perf_counter()
        commit_file(Path(info.path), f"work/t{task_id}.py", "DONE = True\n")
        committed = time.perf_counter()
        result = await manager.merge_worktree(task_id)
        merged = time.perf_counter()
        assert result.status is MergeStatus.MERGED, result
        await manager.cleanup_worktree(task_id)
        cleaned = time.perf_counter()
        phases["create"].append(created - start)
        phases["merge"].append(merged - committed)
        phases["cleanup"].append(cleaned - merged)
        phases["total"].append(cleaned - start - (committed - created))
    return phases


async def eight_at_once(manager: WorktreeManager, first_id: int) -> dict[str, float]:
    ids = list(range(first_id, first_id + 8))
    start = time.perf_counter()
    infos = await asyncio.gather(
        *(manager.create_worktree(TaskRef(i, f"parallel task {i}")) for i in ids)
    )
    created = time.perf_counter()
    for info in infos:
        commit_file(Path(info.path), f"work/p{info.task_id}.py", "DONE = True\n")
    committed = time.perf_counter()
    for task_id in ids:
        result = await manager.merge_worktree(task_id)
        assert result.status is MergeStatus.MERGED, result
    merged = time.perf_counter()
    await asyncio.gather(*(manager.cleanup_worktree(i) for i in ids))
    cleaned = time.perf_counter()
    return {
        "create (8 at once)": created - start,
        "merge (8, queued)": merged - committed,
        "cleanup (8 at once)": cleaned - merged,
        "total": cleaned - start - (committed - created),
    }


async def main(files: int, tasks: int) -> None:
    print(
        f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        repo = build_repository(Path(folder) / "repo", files)
        print(f"repository: {files} files, built in {time.perf_counter() - began:.1f} s")
        manager = WorktreeManager(repo, InMemoryWorktreeLedger(), project_id=1)
        began = time.perf_counter()
        await manager.initialize()
        print(f"initialize (integration worktree checkout): {_ms(time.perf_counter() - began)}")

        raw = raw_git_baseline(repo, 3)
        print(f"plain git worktree add + remove (baseline): median {_ms(statistics.median(raw))}")

        phases = await one_at_a_time(manager, tasks, 1)
        print(f"\none task at a time ({tasks} tasks): median / worst")
        for phase, values in phases.items():
            print(f"  {phase:8s} {_ms(statistics.median(values))} / {_ms(max(values))}")
        overhead = statistics.median(phases["total"]) - statistics.median(raw)
        print(f"  over plain git add+remove: {_ms(overhead)}")

        together = await eight_at_once(manager, 1000)
        print("\n8 tasks at once: wall time")
        for phase, value in together.items():
            print(f"  {phase:20s} {_ms(value)}")
        print(f"  {'per task':20s} {_ms(together['total'] / 8)}")
        print(
            f"\nintegration branch: {git(repo, 'rev-list', '--count', 'yokeflow/integration')} commits"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.files, arguments.tasks))
