"""The Job gateway's own rules, on a fake of our API wrapper: AlreadyExists is success, 429s
pause every creation for Retry-After, creations are paced."""

from __future__ import annotations

from typing import Any, cast

import pytest

from yokeflow.adapters.kube.client import JsonObject, KubeApi
from yokeflow.adapters.kube.jobs import CreationLimit, KubeJobGateway
from yokeflow.errors import KubeRejectedError, KubeUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeApi:
    """Answers creations from a script of outcomes (an exception, or None for created)."""

    def __init__(self, clock: FakeClock, script: list[Exception | None]) -> None:
        self.clock = clock
        self.script = script
        self.created_at: list[float] = []

    async def create(self, path: str, body: JsonObject) -> JsonObject:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.created_at.append(self.clock.now)
        return body


def gateway(clock: FakeClock, api: FakeApi, limit: CreationLimit) -> KubeJobGateway:
    return KubeJobGateway(cast(KubeApi, api), "ns", limit, clock=clock, sleep=clock.sleep)


def throttled(retry_after: float | None) -> KubeUnavailableError:
    return KubeUnavailableError("POST", "/jobs", 429, "too many requests", retry_after)


MANIFEST: dict[str, Any] = {"metadata": {"name": "job-a"}}


async def test_an_existing_job_counts_as_created_by_an_earlier_call() -> None:
    clock = FakeClock()
    exists = KubeRejectedError("POST", "/jobs", 409, "AlreadyExists", "exists")
    api = FakeApi(clock, [exists])
    assert await gateway(clock, api, CreationLimit()).create(MANIFEST) is False


async def test_a_429_waits_for_retry_after_and_holds_later_creations_too() -> None:
    clock = FakeClock()
    api = FakeApi(clock, [throttled(2.0)])
    jobs = gateway(clock, api, CreationLimit(per_second=100, burst=10))

    assert await jobs.create(MANIFEST) is True
    assert await jobs.create(MANIFEST) is True

    assert api.created_at[0] == pytest.approx(2.0)
    assert api.created_at[1] >= 2.0


async def test_a_429_without_retry_after_backs_off_and_gives_up_in_the_end() -> None:
    clock = FakeClock()
    api = FakeApi(clock, [throttled(None)] * 3)
    jobs = gateway(
        clock, api, CreationLimit(per_second=100, burst=10, attempts=3, default_pause_seconds=0.5)
    )

    with pytest.raises(KubeUnavailableError):
        await jobs.create(MANIFEST)
    assert clock.now == pytest.approx(0.5 + 1.0)


async def test_creations_are_paced_to_the_rate_after_the_burst() -> None:
    clock = FakeClock()
    api = FakeApi(clock, [])
    jobs = gateway(clock, api, CreationLimit(per_second=10, burst=2))
    for _ in range(5):
        await jobs.create(MANIFEST)
    assert api.created_at == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])


async def test_a_refusal_other_than_already_exists_goes_up() -> None:
    clock = FakeClock()
    invalid = KubeRejectedError("POST", "/jobs", 422, "Invalid", "spec.template: required")
    api = FakeApi(clock, [invalid])
    with pytest.raises(KubeRejectedError, match="Invalid"):
        await gateway(clock, api, CreationLimit()).create(MANIFEST)
