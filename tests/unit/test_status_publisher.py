"""The status publisher: a run's status written beside its passes — the newest offer wins, a
failed write is tried again, a gone run is let go, a flush writes at once and raises."""

from __future__ import annotations

import asyncio

import pytest

from yokeflow.api.v1alpha1 import ProjectRunStatus
from yokeflow.controller.status_publisher import Offer, StatusPublisher
from yokeflow.errors import KubeRejectedError, KubeUnavailableError


class Api:
    """A status endpoint that takes a moment per write and fails when told to."""

    def __init__(self) -> None:
        self.written: list[str | None] = []
        self.mirrored = 0
        self.failures: list[Exception] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, status: ProjectRunStatus) -> None:
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.written.append(status.phase)

    async def mirror(self) -> None:
        self.mirrored += 1


async def _settled(publisher: StatusPublisher, api: Api, count: int) -> None:
    for _ in range(200):
        if len(api.written) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"written: {api.written}")


async def test_offers_made_while_a_write_is_under_way_collapse_into_the_newest() -> None:
    api = Api()
    publisher = StatusPublisher(api.write, retry_seconds=0.01)
    try:
        api.gate.clear()
        publisher.offer(Offer(ProjectRunStatus(phase="Pending")))
        await asyncio.sleep(0.01)  # that write is now waiting on the API
        for phase in ("Running", "Merging", "Succeeded"):
            publisher.offer(Offer(ProjectRunStatus(phase=phase), api.mirror))  # type: ignore[arg-type]
        latest = publisher.latest
        assert latest is not None
        assert latest.phase == "Succeeded"
        api.gate.set()
        await _settled(publisher, api, 2)
        await asyncio.sleep(0.05)
        assert api.written == ["Pending", "Succeeded"]
        assert api.mirrored == 1
    finally:
        await publisher.close()


async def test_a_failed_write_is_tried_again_and_a_gone_run_is_let_go() -> None:
    api = Api()
    api.failures = [KubeUnavailableError("PATCH", "/status", 503, "busy", None)]
    publisher = StatusPublisher(api.write, retry_seconds=0.01)
    try:
        publisher.offer(Offer(ProjectRunStatus(phase="Running")))
        await _settled(publisher, api, 1)
        assert api.written == ["Running"]
        api.failures = [KubeRejectedError("PATCH", "/status", 404, "NotFound", "gone")]
        publisher.offer(Offer(ProjectRunStatus(phase="Failed")))
        await asyncio.sleep(0.1)
        assert api.written == ["Running"]  # not tried again: nothing left to write to
    finally:
        await publisher.close()


async def test_a_flush_writes_what_is_pending_at_once_and_raises_what_fails() -> None:
    api = Api()
    publisher = StatusPublisher(api.write, retry_seconds=10)
    try:
        api.failures = [KubeUnavailableError("PATCH", "/status", 503, "busy", None)]
        publisher.offer(Offer(ProjectRunStatus(phase="Running")))
        await asyncio.sleep(0.02)  # failed in the background; retried only after 10 s
        publisher.offer(Offer(ProjectRunStatus(phase="Succeeded"), api.mirror))
        await publisher.flush()
        assert api.written == ["Succeeded"]
        assert api.mirrored == 1
        api.failures = [KubeUnavailableError("PATCH", "/status", 503, "busy", None)]
        publisher.offer(Offer(ProjectRunStatus(phase="Failed")))
        with pytest.raises(KubeUnavailableError):
            await publisher.flush()
    finally:
        await publisher.close()
