"""The cluster's task launcher: one ``batch/v1`` Job per task session (``ports.launcher``).

- ``launch`` builds the Job with the injected builder (``specs.task_job`` in the operator),
  names it by the lease's ``handle`` (deterministic: run, task and attempt), records the lease in
  an annotation, and creates it through the Job gateway — ``AlreadyExists`` is the same Job, so a
  restarted operator never makes a second one.
- ``live`` and ``collect`` read Jobs, not memory: a Job that ended and carries no *collected*
  annotation is reported by ``collect`` once, then annotated, so even across operator restarts
  each session is reported once and a collected Job no longer counts as live.
- An outcome comes from the runner's JSON report in the agent container's termination message
  (success, cost, error); when that report is missing, from the Job's own state and reason
  (``DeadlineExceeded``, a failed clone), so a lost report is still noticed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from yokeflow.core.termination import read_report
from yokeflow.ports.jobs import JobGateway, JobSight
from yokeflow.ports.launcher import (
    LaunchRequest,
    Lease,
    LostSpend,
    SessionEnded,
    SessionOutcome,
)

__all__ = [
    "COLLECTED_ANNOTATION",
    "LEASE_ANNOTATION",
    "EndedHook",
    "JobBuilder",
    "KubeTaskLauncher",
]

LEASE_ANNOTATION = "yokeflow.io/lease"
"""The lease of the session a Job runs, as JSON."""
COLLECTED_ANNOTATION = "yokeflow.io/collected"
"""Set on a Job once its end was reported by ``collect``."""

log = logging.getLogger(__name__)

JobBuilder = Callable[[Lease, LaunchRequest], dict[str, Any]]
"""Builds the Job manifest of one session (named ``lease.handle``)."""
EndedHook = Callable[[SessionEnded], Awaitable[None]]
"""Called for each ended session before its Job is marked collected (record what it reported)."""


class KubeTaskLauncher:
    """Task sessions as Jobs of one namespace, found by a label selector (see the module doc)."""

    def __init__(
        self,
        jobs: JobGateway,
        selector: str,
        build: JobBuilder,
        on_ended: EndedHook | None = None,
        concurrency: int = 1,
    ) -> None:
        self._jobs = jobs
        self._selector = selector
        self._build = build
        self._on_ended = on_ended
        self._gate = asyncio.Semaphore(max(1, concurrency))

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        manifest = self._build(lease, request)
        metadata = manifest.setdefault("metadata", {})
        if metadata.get("name") != lease.handle:
            raise ValueError(
                f"the Job builder named the Job {metadata.get('name')!r}, the lease {lease.handle!r}"
            )
        annotations = metadata.setdefault("annotations", {})
        annotations[LEASE_ANNOTATION] = json.dumps(asdict(lease), sort_keys=True)
        await self._jobs.create(manifest)
        return lease

    async def live(self) -> Sequence[Lease]:
        leases = []
        for seen in await self._jobs.observe(self._selector):
            lease = _lease_of(seen)
            if lease is not None and COLLECTED_ANNOTATION not in seen.annotations:
                leases.append(lease)
        return leases

    async def collect(self) -> Sequence[SessionEnded]:
        """Sessions whose Job ended since the last call, each once (up to ``concurrency`` Jobs
        are recorded and marked at a time)."""
        ended: list[tuple[JobSight, SessionEnded]] = []
        for seen in await self._jobs.observe(self._selector):
            if (
                seen.state not in ("succeeded", "failed")
                or COLLECTED_ANNOTATION in seen.annotations
            ):
                continue
            lease = _lease_of(seen)
            if lease is not None:
                ended.append((seen, SessionEnded(lease, outcome(seen, lease))))
        marked = await asyncio.gather(
            *(self._mark(seen, session) for seen, session in ended), return_exceptions=True
        )
        collected: list[SessionEnded] = []
        for (seen, _), result in zip(ended, marked, strict=True):
            if isinstance(result, BaseException):
                # Not marked: reported by a later call. (Raising would lose the ones marked.)
                if not isinstance(result, Exception):
                    raise result
                log.warning("collecting Job %s: %s; again at the next pass", seen.name, result)
            else:
                collected.append(result)
        return collected

    async def _mark(self, seen: JobSight, session: SessionEnded) -> SessionEnded:
        async with self._gate:
            if self._on_ended is not None:
                await self._on_ended(session)
            await self._jobs.annotate(seen.name, {COLLECTED_ANNOTATION: "true"})
        return session

    async def stop(self, lease: Lease) -> None:
        await self._jobs.delete(lease.handle)

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        seen = await self._jobs.get(lease.handle)
        report = (
            read_report(seen.termination_message, required="success") if seen is not None else None
        )
        if report is None:
            return None
        return LostSpend(
            model=str(report.get("session", {}).get("model") or lease.model),
            cost_usd=_money(report.get("cost_usd")),
        )


def outcome(seen: JobSight, lease: Lease) -> SessionOutcome:
    """How the session of Job ``seen`` went: the runner's report if it left one, else the Job's
    own state and reason."""
    report = read_report(seen.termination_message, required="success")
    duration = _seconds_between(seen.created_at, seen.finished_at)
    if report is not None:
        success = bool(report.get("success")) and seen.state == "succeeded"
        error = report.get("error")
        if not success and not error:
            error = _job_failure(seen)
        return SessionOutcome(
            success=success,
            model=str(report.get("session", {}).get("model") or lease.model),
            cost_usd=_money(report.get("cost_usd")),
            duration_seconds=duration,
            error=str(error) if error else None,
        )
    success = seen.state == "succeeded"
    return SessionOutcome(
        success=success,
        model=lease.model,
        cost_usd=Decimal(0),
        duration_seconds=duration,
        error=None if success else _job_failure(seen),
    )


def _job_failure(seen: JobSight) -> str:
    text = seen.reason or "Failed"
    if seen.message:
        text += f": {seen.message}"
    if seen.exit_code is not None:
        text += f" (exit code {seen.exit_code})"
    return text


def _lease_of(seen: JobSight) -> Lease | None:
    raw = seen.annotations.get(LEASE_ANNOTATION)
    if raw is None:
        return None
    try:
        return Lease(**json.loads(raw))
    except (ValueError, TypeError):
        return None


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    try:
        began = datetime.fromisoformat(start.replace("Z", "+00:00"))
        ended = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max(0.0, (ended - began).total_seconds())
