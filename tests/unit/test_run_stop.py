"""Stopping a deleted run: its unfinished Jobs go, finished ones and other runs' stay."""

from __future__ import annotations

from typing import Any

from yokeflow.services.run_stop import run_selector, stop_run_jobs
from yokeflow.specs.names import common_labels
from yokeflow.testing.fake_jobs import FakeJobGateway


def job(name: str, run: str, suspend: bool = False) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": common_labels(run, "agent")},
        "spec": {"suspend": suspend},
    }


async def test_only_the_runs_unfinished_jobs_are_stopped() -> None:
    jobs = FakeJobGateway()
    for manifest in (
        job("a-running", "Alpha_Run"),
        job("a-done", "Alpha_Run"),
        job("a-failed", "Alpha_Run"),
        job("a-queued", "Alpha_Run", suspend=True),
        job("b-running", "beta"),
    ):
        await jobs.create(manifest)
    jobs.finish("a-running", "running")
    jobs.finish("a-done", "succeeded")
    jobs.finish("a-failed", "failed", exit_code=3)

    assert await stop_run_jobs(jobs, "Alpha_Run") == ["a-queued", "a-running"]
    assert await stop_run_jobs(jobs, "Alpha_Run") == []
    assert sorted(jobs.jobs) == ["a-done", "a-failed", "b-running"]


def test_the_selector_matches_the_labels_the_builders_put_on() -> None:
    labels = common_labels("Alpha_Run", "agent")
    wanted = dict(part.split("=", 1) for part in run_selector("Alpha_Run").split(","))
    assert wanted.items() <= labels.items()
