"""The Job gateway over the Kubernetes API: creating, observing and deleting the Jobs of one namespace.

- Creation is idempotent: names are deterministic (the caller derives them from the run, task
  and attempt), and ``AlreadyExists`` is the success it means — a restarted operator never makes
  a second Job for one attempt.
- Creation is rate-limited on our side (neither kopf nor the client library limits anything): a
  token bucket spaces calls, and a ``429 Too Many Requests`` pauses every creation for the
  server's ``Retry-After`` before the call is tried again.
- Observation lists the Jobs and pods of a label selector in two calls and joins them, so the
  operator sees Job conditions *and* pod termination messages (a lost report is still noticed);
  with a :class:`~yokeflow.adapters.kube.job_view.JobView` it reads the view's watched copy
  instead, and every Job this gateway creates or annotates is applied to the view at once.
- Deletion propagates in the background; a Job already gone is fine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from yokeflow.adapters.kube.client import JsonObject, KubeApi
from yokeflow.adapters.kube.job_status import job_name_of_pod, sight
from yokeflow.adapters.kube.job_view import JobView
from yokeflow.core.rate_limit import TokenBucket, pause, reserve
from yokeflow.errors import KubeRejectedError, KubeUnavailableError
from yokeflow.ports.jobs import JobSight

__all__ = ["CreationLimit", "KubeJobGateway"]


@dataclass(frozen=True)
class CreationLimit:
    """How fast Jobs may be created, and how a throttled creation is retried."""

    per_second: float = 50.0
    burst: int = 100
    attempts: int = 6
    """Tries of one creation against 429s and passing failures before the error goes up."""
    default_pause_seconds: float = 1.0
    """The pause after a 429 that named no Retry-After (doubled for each further try)."""


class KubeJobGateway:
    """The Jobs of ``namespace`` over the API (implements ``ports.jobs.JobGateway``; see the
    module docstring)."""

    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        limit: CreationLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        view: JobView | None = None,
    ) -> None:
        self._api = api
        self._view = view
        self._namespace = namespace
        self._limit = limit or CreationLimit()
        self._clock = clock
        self._sleep = sleep
        self._bucket = TokenBucket.full(self._limit.per_second, self._limit.burst, clock())
        self._jobs_path = f"/apis/batch/v1/namespaces/{namespace}/jobs"

    @property
    def namespace(self) -> str:
        return self._namespace

    async def create(self, manifest: JsonObject) -> bool:
        """Create the Job; True if this call made it, False if it existed already."""
        for attempt in range(self._limit.attempts):
            self._bucket, wait = reserve(self._bucket, self._clock())
            if wait > 0:
                await self._sleep(wait)
            try:
                created = await self._api.create(self._jobs_path, manifest)
                if self._view is not None:
                    self._view.apply_job(created)
                return True
            except KubeRejectedError as exc:
                if exc.reason == "AlreadyExists":
                    return False
                raise
            except KubeUnavailableError as exc:
                if attempt + 1 == self._limit.attempts:
                    raise
                delay = exc.retry_after
                if delay is None:
                    delay = self._limit.default_pause_seconds * 2**attempt
                if exc.status == 429:
                    # Every creation waits, not only this one: the server is saying "slow down".
                    self._bucket = pause(self._bucket, self._clock(), delay)
                else:
                    await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    async def observe(self, selector: str) -> list[JobSight]:
        """Every Job matching the label ``selector``, with what its pods say."""
        if self._view is not None and self._view.covers(selector):
            return await self._view.observe(selector)
        query = {"labelSelector": selector}
        jobs = await self._api.get(self._jobs_path, query)
        pods = await self._api.get(f"/api/v1/namespaces/{self._namespace}/pods", query)
        by_job: dict[str, list[JsonObject]] = {}
        for pod in pods.get("items", []):
            name = job_name_of_pod(pod)
            if name is not None:
                by_job.setdefault(name, []).append(pod)
        return [
            sight(job, by_job.get(job["metadata"]["name"], [])) for job in jobs.get("items", [])
        ]

    async def get(self, name: str) -> JobSight | None:
        """One Job by name (None if it does not exist)."""
        try:
            job = await self._api.get(f"{self._jobs_path}/{name}")
        except KubeRejectedError as exc:
            if exc.reason == "NotFound":
                return None
            raise
        pods = await self._api.get(
            f"/api/v1/namespaces/{self._namespace}/pods",
            {"labelSelector": f"batch.kubernetes.io/job-name={name}"},
        )
        return sight(job, pods.get("items", []))

    async def delete(self, name: str) -> bool:
        """Delete the Job and (in the background) its pods; False if it was gone already."""
        body = {"propagationPolicy": "Background"}
        try:
            await self._api.delete(f"{self._jobs_path}/{name}", body)
        except KubeRejectedError as exc:
            if exc.reason == "NotFound":
                return False
            raise
        return True

    async def annotate(self, name: str, annotations: Mapping[str, str]) -> None:
        """Merge ``annotations`` into the Job's (a collected mark, say)."""
        patched = await self._api.patch(
            f"{self._jobs_path}/{name}", {"metadata": {"annotations": dict(annotations)}}
        )
        if self._view is not None:
            self._view.apply_job(patched)
