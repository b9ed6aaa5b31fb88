"""Job creation through the Job gateway on kwok nodes: how fast Jobs go in, and how fast the
cluster finishes them.

Starts a control plane (or uses ``--kubeconfig``), then in a fresh namespace creates ``--jobs``
Jobs (default 1,000) two ways and prints, for each: Jobs created per second, and the seconds
until the Job controller and kwok had completed them all.

- baseline: one ``POST`` after another, no pacing (what a naive loop does);
- gateway: ``KubeJobGateway.create`` from ``--concurrency`` tasks at once, paced by its token bucket
  (``--rate``, ``--burst``).

The ratio gateway/baseline of creations per second is printed last. The delay from a Job's
completion to its dependents' Jobs is an operator figure, not measured here.

Run: .venv/bin/python tests/benchmarks/bench_job_gateway.py [--jobs N] [--kubeconfig PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.jobs import CreationLimit, KubeJobGateway
from yokeflow.testing.controlplane import ControlPlaneConfig, resolve_bin_dir, running_control_plane


def job(name: str, label: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"bench": label}},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": {"bench": label}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "agent", "image": "none", "command": ["true"]}],
                },
            },
        },
    }


async def completed(
    api: KubeApi, namespace: str, label: str, count: int, limit_seconds: float
) -> float:
    started = time.monotonic()
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    while time.monotonic() - started < limit_seconds:
        listed = await api.get(path, {"labelSelector": f"bench={label}"})
        done = sum(1 for j in listed["items"] if j.get("status", {}).get("succeeded"))
        if done >= count:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise SystemExit(f"only some of {count} Jobs completed in {limit_seconds:.0f}s")


async def bench(kubeconfig: Path, jobs: int, concurrency: int, rate: float, burst: int) -> int:
    async with await KubeApi.connect(kubeconfig) as api:
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        await api.create("/api/v1/namespaces", {"metadata": {"name": namespace}})
        path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        await asyncio.sleep(2)  # the namespace's default service account

        started = time.monotonic()
        for i in range(jobs):
            await api.create(path, job(f"base-{i}", "base"))
        base_create = time.monotonic() - started
        base_done = await completed(api, namespace, "base", jobs, 600)

        gateway = KubeJobGateway(api, namespace, CreationLimit(per_second=rate, burst=burst))
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(jobs):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await gateway.create(job(f"gw-{i}", "gw"))

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        gw_create = time.monotonic() - started
        gw_done = await completed(api, namespace, "gw", jobs, 600)
        await api.delete(f"/api/v1/namespaces/{namespace}")

    print(f"jobs: {jobs} (kwok nodes), gateway: {concurrency} at once, {rate:g}/s, burst {burst}")
    print(
        f"baseline (sequential POSTs): {jobs / base_create:7.1f} Jobs created/s, all complete {base_done:6.1f} s after the last"
    )
    print(
        f"gateway:                     {jobs / gw_create:7.1f} Jobs created/s, all complete {gw_done:6.1f} s after the last"
    )
    print(f"ratio gateway/baseline creations per second: {base_create / gw_create:.2f}x")
    return 0


@contextlib.contextmanager
def control_plane(kubeconfig: Path | None) -> Iterator[Path]:
    if kubeconfig is not None:
        yield kubeconfig
        return
    with tempfile.TemporaryDirectory(prefix="bench-cp-") as state:
        config = ControlPlaneConfig(
            state_dir=Path(state),
            bin_dir=resolve_bin_dir(os.environ, (Path(__file__).resolve().parent,)),
            die_with_parent=True,
        )
        with running_control_plane(config, lambda line: print(line, file=sys.stderr)) as running:
            yield running.kubeconfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--kubeconfig", type=Path, default=None)
    args = parser.parse_args()
    with control_plane(args.kubeconfig) as kubeconfig:
        return asyncio.run(bench(kubeconfig, args.jobs, args.concurrency, args.rate, args.burst))


if __name__ == "__main__":
    sys.exit(main())
