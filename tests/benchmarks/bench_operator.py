"""The operator on kwok nodes: a ProjectRun of ``--tasks`` tasks (default 1,000), carried out.

Starts a control plane with kwok nodes (or uses ``--kubeconfig``), installs the CRDs, serves a
git repository with ``git daemon``, makes a fresh database on the PostgreSQL 15 test server
(``YOKEFLOW_TEST_PG15_URL``), runs ``yokeflow operator`` as a process, and applies one
ProjectRun: ``--levels`` levels of tasks, each task depending on the task in the same column
of the level before (so a level's task starts when its one dependency is merged), all at most
``--concurrency`` at once. Task and merge Jobs complete by kwok's stages (no runner report: the
operator judges each from the Job's state).

A watch of the namespace's Jobs records, as this process receives them, when each Job appeared
and when it completed. Printed:

- task Jobs created per second: over the first level (every task ready at once) and over the
  whole run;
- the delay from a task Job's completion to the creation of its dependent's Job (p50, p95,
  max): collecting the Job, a merge Job (created, run by kwok, collected), the next pass; and
  its parts: task Job complete → its merge Job created (the operator), merge Job created →
  complete (the Job controller, the scheduler and kwok's stages: no operator work), merge Job
  complete → the dependent's Job created (the operator);
- the run's wall time, and the phase it ended in.

Run: .venv/bin/python tests/benchmarks/bench_operator.py [--tasks N] [--levels L]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.errors import KubeUnavailableError
from yokeflow.testing.controlplane import ControlPlaneConfig, resolve_bin_dir, running_control_plane
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.gitserver import serving_git
from yokeflow.testing.postgres import PG15_URL_ENV, create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]


def plan(tasks: int, levels: int) -> dict[str, Any]:
    width = tasks // levels
    items = []
    for level in range(levels):
        for column in range(width):
            task: dict[str, Any] = {"key": f"t{level}-{column}", "title": f"Task {level}/{column}"}
            if level:
                task["dependsOn"] = [f"t{level - 1}-{column}"]
            items.append(task)
    return {"name": "bench", "epics": [{"key": "all", "name": "All", "tasks": items}]}


class Seen:
    """Task Jobs as the watch showed them: when each appeared and completed."""

    def __init__(self) -> None:
        self.created: dict[str, float] = {}
        self.completed: dict[str, float] = {}
        self.merges: set[str] = set()
        self.merge_created: dict[str, float] = {}
        """Task key → when the merge Job that merged it appeared."""
        self.merge_completed: dict[str, float] = {}
        """Task key → when that merge Job completed."""

    def see(self, kind: str, job: dict[str, Any]) -> None:
        now = time.monotonic()
        meta = job.get("metadata", {})
        labels = meta.get("labels", {})
        if labels.get("app.kubernetes.io/component") == "merge":
            self.merges.add(meta.get("name", ""))
            merging = json.loads(meta.get("annotations", {}).get("yokeflow.io/merge-tasks", "[]"))
            for key, _, _ in merging:
                self.merge_created.setdefault(key, now)
                if _done(job):
                    self.merge_completed.setdefault(key, now)
            return
        task = meta.get("annotations", {}).get("yokeflow.io/task-key")
        if task is None:
            return
        self.created.setdefault(task, now)
        if _done(job):
            self.completed.setdefault(task, now)


def _done(job: dict[str, Any]) -> bool:
    conditions = {
        c.get("type")
        for c in job.get("status", {}).get("conditions", [])
        if c.get("status") == "True"
    }
    return bool(conditions & {"Complete", "SuccessCriteriaMet"})


async def watch_jobs(api: KubeApi, namespace: str, seen: Seen, stop: asyncio.Event) -> None:
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    version: str | None = None
    while not stop.is_set():
        try:
            async for event in api.watch(path, resource_version=version, timeout_seconds=30):
                if event.type == "BOOKMARK":
                    version = event.object.get("metadata", {}).get("resourceVersion", version)
                    continue
                version = event.object.get("metadata", {}).get("resourceVersion", version)
                seen.see(event.type, event.object)
                if stop.is_set():
                    return
        except KubeUnavailableError:
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def operator_process(kubeconfig: Path, database: str, rate: float) -> Iterator[Path]:
    """``yokeflow operator`` on ``database`` for the block; yields its log's path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    env.update(
        YOKEFLOW_DATABASE_URL=database,
        YOKEFLOW_DATABASE_POOL_MAX_SIZE="8",
        YOKEFLOW_OPERATOR_MCP_PORT="0",
        YOKEFLOW_OPERATOR_MCP_URL="http://127.0.0.1:1",
        YOKEFLOW_OPERATOR_JOB_CREATIONS_PER_SECOND=str(rate),
    )
    log = Path(tempfile.mkdtemp(prefix="bench-operator-")) / "operator.log"
    with log.open("ab") as out:
        operator = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "yokeflow"),
                "operator",
                f"--kubeconfig={kubeconfig}",
                "--liveness-port=0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        operator.terminate()
        operator.wait(timeout=30)


async def bench(
    kubeconfig: Path, url: str, args: argparse.Namespace, crds: list[dict[str, Any]]
) -> int:
    async with await KubeApi.connect(kubeconfig) as api:
        for crd in crds:
            await apply_crd(api, crd)
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        await api.create("/api/v1/namespaces", {"metadata": {"name": namespace}})
        await asyncio.sleep(3)  # the namespace's service account; the operator's start
        seen = Seen()
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_jobs(api, namespace, seen, stop))
        run = {
            "apiVersion": "yokeflow.io/v1alpha1",
            "kind": "ProjectRun",
            "metadata": {"name": "bench"},
            "spec": {
                "repository": {"url": url},
                "plan": plan(args.tasks, args.levels),
                "parallel": {"maxConcurrency": args.concurrency},
            },
        }
        started = time.monotonic()
        await api.create(f"/apis/yokeflow.io/v1alpha1/namespaces/{namespace}/projectruns", run)
        phase = await finished(api, namespace, args.limit)
        wall = time.monotonic() - started
        await asyncio.sleep(1)
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    report(seen, args, wall, phase)
    return 0 if phase == "Succeeded" else 1


async def apply_crd(api: KubeApi, body: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        await api.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body)
    name = body["metadata"]["name"]
    for _ in range(100):
        crd = await api.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        listed = (crd.get("status") or {}).get("conditions") or []
        conditions = {c["type"]: c["status"] for c in listed}
        if conditions.get("Established") == "True":
            return
        await asyncio.sleep(0.2)


async def finished(api: KubeApi, namespace: str, limit: float) -> str:
    path = f"/apis/yokeflow.io/v1alpha1/namespaces/{namespace}/projectruns/bench"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            run = await api.get(path)
        except KubeUnavailableError:  # a busy API server: ask again
            await asyncio.sleep(1)
            continue
        phase = str(run.get("status", {}).get("phase", "Pending"))
        if phase in ("Succeeded", "Failed"):
            return phase
        await asyncio.sleep(1)
    return "TimedOut"


def report(seen: Seen, args: argparse.Namespace, wall: float, phase: str) -> None:
    width = args.tasks // args.levels
    first = sorted(t for k, t in seen.created.items() if k.startswith("t0-"))
    times = sorted(seen.created.values())
    delays: list[float] = []
    to_merge: list[float] = []
    merging: list[float] = []
    after_merge: list[float] = []
    for key, created in seen.created.items():
        level, column = key[1:].split("-")
        if level == "0":
            continue
        dependency = f"t{int(level) - 1}-{column}"
        done = seen.completed.get(dependency)
        if done is None:
            continue
        delays.append(created - done)
        merge_created = seen.merge_created.get(dependency)
        merged = seen.merge_completed.get(dependency)
        if merge_created is not None and merged is not None:
            to_merge.append(merge_created - done)
            merging.append(merged - merge_created)
            after_merge.append(created - merged)
    print(
        f"tasks: {args.tasks} in {args.levels} levels of {width} (kwok nodes), maxConcurrency {args.concurrency}"
    )
    print(
        f"run: {phase} in {wall:.1f} s; task Jobs seen {len(seen.created)}, merge Jobs {len(seen.merges)}"
    )
    if len(first) > 1:
        span = max(first[-1] - first[0], 1e-3)
        print(
            f"first level: {len(first)} task Jobs created in {span:.2f} s = {len(first) / span:.1f} Jobs/s"
        )
    if len(times) > 1:
        span = max(times[-1] - times[0], 1e-3)
        print(
            f"whole run:   {len(times)} task Jobs over {span:.1f} s = {len(times) / span:.1f} Jobs/s"
        )
    if delays:
        print(f"completion -> dependent's Job: {_spread(delays)} ({len(delays)} dependents)")
    if to_merge:
        print(f"  task Job complete -> its merge Job created:   {_spread(to_merge)}")
        print(f"  merge Job created -> complete (no operator):  {_spread(merging)}")
        print(f"  merge Job complete -> dependent's Job:        {_spread(after_merge)}")
    print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"


@contextlib.contextmanager
def control_plane(kubeconfig: Path | None, nodes: int) -> Iterator[Path]:
    if kubeconfig is not None:
        yield kubeconfig
        return
    with tempfile.TemporaryDirectory(prefix="bench-cp-") as state:
        config = ControlPlaneConfig(
            state_dir=Path(state),
            bin_dir=resolve_bin_dir(os.environ, (Path(__file__).resolve().parent,)),
            die_with_parent=True,
            nodes=nodes,
        )
        with running_control_plane(config, lambda line: print(line, file=sys.stderr)) as running:
            yield running.kubeconfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--nodes", type=int, default=12)
    parser.add_argument("--limit", type=float, default=1200.0, help="Seconds to wait for the run.")
    parser.add_argument("--kubeconfig", type=Path, default=None)
    args = parser.parse_args()
    admin = os.environ.get(PG15_URL_ENV)
    if not admin:
        raise SystemExit(f"{PG15_URL_ENV} is not set: source .test-services.env")
    name = f"yf_bench_operator_{os.getpid()}"
    database = asyncio.run(create_database(admin, name))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-git-") as folder:
            (Path(folder) / "served").mkdir()
            with (
                serving_git(Path(folder) / "served") as git_server,
                control_plane(args.kubeconfig, args.nodes) as kubeconfig,
            ):
                url = git_server.publish(make_repository(Path(folder) / "source"), "bench")
                crds = [
                    yaml.safe_load(p.read_text(encoding="utf-8"))
                    for p in sorted((ROOT / "crds").glob("*.yaml"))
                ]
                with operator_process(kubeconfig, database, args.rate):
                    return asyncio.run(bench(kubeconfig, url, args, crds))
    finally:
        asyncio.run(drop_database(admin, name))


if __name__ == "__main__":
    sys.exit(main())
