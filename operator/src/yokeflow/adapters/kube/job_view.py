"""A namespace's Jobs and their pods as the operator last heard of them: listed once, then kept
current by watches (an informer), so a pass reads memory instead of listing thousands of objects.

- Each collection (Jobs, pods) is listed with a label selector, then watched from the list's
  ``resourceVersion`` (with bookmarks). A watch the server ends is started again from the last
  version seen; an expired version (``410 Gone``) lists again; an unreachable server is tried
  again after a short pause. Until the first listings are in, readers wait (:meth:`JobView.ready`).
- The operator's own writes are applied at once (:meth:`JobView.apply_job` with the server's
  answer to a create or a patch), so a pass never misses a Job it has just created or marked.
  An object is only ever replaced by a newer version of itself (resource versions compared as
  the numbers the API server gives out), so a late watch event or listing cannot bring back an
  older state over one of those writes.
- A Job whose end the view shows while its pods still look unfinished (the pod watch is a
  stream of its own and may lag) has its pods read from the API once, so the pod's exit code and
  termination message are there when the Job's end is collected.
- ``on_change`` is called with a Job's labels when a watch shows a change a pass acts on (the
  operator wakes the run's pass with it): a Job new to the view, a Job gone, a Job that ended, a
  Job held or let go by a queue (Kueue's suspend). The many other updates of a Job's life
  (started, its pod ready, the operator's own annotations) wake nobody: each would start a
  pass over the whole run, and a Job's end arriving during such a pass waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from yokeflow.adapters.kube.client import JsonObject, KubeApi
from yokeflow.adapters.kube.job_status import job_name_of_pod, sight
from yokeflow.errors import KubeRejectedError, KubeUnavailableError
from yokeflow.ports.jobs import JobSight

__all__ = ["JobView", "equality_selector"]

log = logging.getLogger(__name__)

_ENDED_POD_PHASES = frozenset({"Succeeded", "Failed"})
_ENDED_JOB_CONDITIONS = frozenset({"Complete", "SuccessCriteriaMet", "Failed", "FailureTarget"})


def equality_selector(selector: str) -> dict[str, str]:
    """``"a=b,c==d"`` → ``{"a": "b", "c": "d"}``; other selector forms raise ``ValueError``."""
    wanted: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in selector.split(","))):
        key, sep, value = part.replace("==", "=").partition("=")
        if not sep or not key or "!" in key or any(c in part for c in " ()"):
            raise ValueError(f"not an equality label selector: {selector!r}")
        wanted[key.strip()] = value.strip()
    return wanted


def _version(obj: Mapping[str, Any]) -> int | None:
    raw = obj.get("metadata", {}).get("resourceVersion")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _newer(incoming: Mapping[str, Any], held: Mapping[str, Any] | None) -> bool:
    """Whether ``incoming`` may replace ``held`` (unknown versions: the incoming one wins)."""
    if held is None:
        return True
    new, old = _version(incoming), _version(held)
    return new is None or old is None or new >= old


def _turn(job: Mapping[str, Any] | None) -> tuple[bool, bool] | None:
    """What of a Job a pass acts on: whether it ended, whether a queue holds it (None: absent)."""
    if job is None:
        return None
    status = job.get("status") or {}
    ended = any(
        c.get("type") in _ENDED_JOB_CONDITIONS and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )
    held = bool((job.get("spec") or {}).get("suspend")) and not status.get("active")
    return ended, held


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}


class _Collection:
    """One watched collection: name → the newest object seen."""

    def __init__(self, api: KubeApi, path: str, selector: str) -> None:
        self.api = api
        self.path = path
        self.selector = selector
        self.items: dict[str, JsonObject] = {}
        self.version: str | None = None
        self.listed = asyncio.Event()

    def put(self, obj: JsonObject) -> bool:
        """Keep ``obj`` if it is newer than what is held; True when it was kept."""
        name = str(obj.get("metadata", {}).get("name", ""))
        if not name or not _newer(obj, self.items.get(name)):
            return False
        self.items[name] = obj
        return True

    def remove(self, obj: JsonObject) -> None:
        name = str(obj.get("metadata", {}).get("name", ""))
        held = self.items.get(name)
        if held is not None and _newer(obj, held):
            del self.items[name]

    async def relist(self) -> None:
        listed = await self.api.get(self.path, {"labelSelector": self.selector})
        version = listed.get("metadata", {}).get("resourceVersion")
        at = int(version) if isinstance(version, str) and version.isdigit() else None
        fresh: dict[str, JsonObject] = {}
        for obj in listed.get("items", []):
            name = str(obj.get("metadata", {}).get("name", ""))
            held = self.items.get(name)
            fresh[name] = held if held is not None and not _newer(obj, held) else obj
        for name, held in self.items.items():
            # Written by us after the listing's snapshot: not gone, only newer than the list.
            held_at = _version(held)
            if name not in fresh and at is not None and held_at is not None and held_at > at:
                fresh[name] = held
        self.items = fresh
        self.version = version if isinstance(version, str) else None
        self.listed.set()


class JobView:
    """The Jobs and pods of ``namespace`` matching ``selector`` (see the module docstring)."""

    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        selector: str,
        *,
        on_change: Callable[[Mapping[str, str]], None] | None = None,
        timeout_seconds: int = 300,
        retry_seconds: float = 1.0,
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._selector = selector
        self._wanted = equality_selector(selector)
        self._on_change = on_change
        self._timeout = timeout_seconds
        self._retry = retry_seconds
        self._jobs = _Collection(api, f"/apis/batch/v1/namespaces/{namespace}/jobs", selector)
        self._pods = _Collection(api, f"/api/v1/namespaces/{namespace}/pods", selector)
        self._pods_read: set[str] = set()
        """Uids of ended Jobs whose pods were read from the API once (see the module doc)."""
        self._tasks: list[asyncio.Task[None]] = []

    def covers(self, selector: str) -> bool:
        """Whether every object ``selector`` matches is in this view."""
        try:
            asked = equality_selector(selector)
        except ValueError:
            return False
        return all(asked.get(k) == v for k, v in self._wanted.items())

    def start(self) -> None:
        """Start listing and watching (in the running event loop); idempotent."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._follow(self._jobs, jobs=True), name="job-view-jobs"),
            asyncio.create_task(self._follow(self._pods, jobs=False), name="job-view-pods"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def ready(self) -> None:
        """Wait for the first listings (started here if nobody started them)."""
        self.start()
        await self._jobs.listed.wait()
        await self._pods.listed.wait()

    def apply_job(self, job: JsonObject) -> None:
        """A Job as the server answered one of our writes (created, patched)."""
        if job.get("kind") in (None, "Job") and job.get("metadata", {}).get("name"):
            self._jobs.put(job)

    async def observe(self, selector: str) -> list[JobSight]:
        """Every Job of the view matching ``selector`` (which :meth:`covers` must accept)."""
        await self.ready()
        asked = equality_selector(selector)
        jobs = [
            job
            for job in self._jobs.items.values()
            if all(_labels(job).get(k) == v for k, v in asked.items())
        ]
        by_job = self._pods_by_job()
        for job in jobs:
            if self._pods_lag(job, by_job.get(str(job["metadata"]["name"]), [])):
                await self._read_pods(job)
                by_job = self._pods_by_job()
        return [sight(job, by_job.get(str(job["metadata"]["name"]), [])) for job in jobs]

    def _pods_by_job(self) -> dict[str, list[JsonObject]]:
        by_job: dict[str, list[JsonObject]] = {}
        for pod in self._pods.items.values():
            name = job_name_of_pod(pod)
            if name is not None:
                by_job.setdefault(name, []).append(pod)
        return by_job

    def _pods_lag(self, job: JsonObject, pods: list[JsonObject]) -> bool:
        if str(job.get("metadata", {}).get("uid", "")) in self._pods_read:
            return False
        ended = any(
            c.get("type") in _ENDED_JOB_CONDITIONS and c.get("status") == "True"
            for c in job.get("status", {}).get("conditions", [])
        )
        if not ended:
            return False
        newest = max(
            pods, key=lambda p: p.get("metadata", {}).get("creationTimestamp", ""), default=None
        )
        return newest is None or newest.get("status", {}).get("phase") not in _ENDED_POD_PHASES

    async def _read_pods(self, job: JsonObject) -> None:
        meta = job.get("metadata", {})
        found = await self._api.get(
            self._pods.path, {"labelSelector": f"batch.kubernetes.io/job-name={meta.get('name')}"}
        )
        for pod in found.get("items", []):
            self._pods.put(pod)
        self._pods_read.add(str(meta.get("uid", "")))

    async def _follow(self, collection: _Collection, *, jobs: bool) -> None:
        """List, then watch from the list's version, for as long as the view lives."""
        fresh = True
        while True:
            try:
                if fresh or collection.version is None:
                    await collection.relist()
                    fresh = False
                    if jobs:
                        self._changed_all()
                await self._watch(collection, jobs=jobs)
            except asyncio.CancelledError:
                raise
            except KubeRejectedError as exc:
                fresh = True  # an expired version (410): list again
                if exc.reason not in ("Expired", "Gone"):
                    log.warning("watching %s: %s", collection.path, exc)
                    await asyncio.sleep(self._retry)
            except KubeUnavailableError as exc:
                log.info("watching %s: %s; again shortly", collection.path, exc)
                await asyncio.sleep(self._retry)
            except Exception:  # never let the view die silently: list again after a pause
                log.exception("watching %s failed; listing again", collection.path)
                fresh = True
                await asyncio.sleep(self._retry)

    async def _watch(self, collection: _Collection, *, jobs: bool) -> None:
        events = self._api.watch(
            collection.path,
            resource_version=collection.version,
            timeout_seconds=self._timeout,
            query={"labelSelector": self._selector},
        )
        async for event in events:
            obj = event.object
            version = obj.get("metadata", {}).get("resourceVersion")
            if isinstance(version, str) and version:
                collection.version = version
            if event.type == "BOOKMARK":
                continue
            name = str(obj.get("metadata", {}).get("name", ""))
            before = _turn(collection.items.get(name))
            if event.type == "DELETED":
                collection.remove(obj)
            elif not collection.put(obj):
                continue
            turned = before != _turn(collection.items.get(name)) or event.type == "DELETED"
            if jobs and turned and self._on_change is not None:
                self._on_change(_labels(obj))

    def _changed_all(self) -> None:
        if self._on_change is None:
            return
        for job in list(self._jobs.items.values()):
            self._on_change(_labels(job))
