"""A run's task sessions as Jobs, with what a Job needs around it: its token Secret and its cost.

:class:`RunTaskLauncher` is the ``TaskLauncher`` the operator gives the engine for one
ProjectRun. It wraps :class:`~yokeflow.adapters.kube.launcher.KubeTaskLauncher` (one Job per
lease, named by the lease's handle, collected once) and adds

- the task's Secret (MCP configuration with a token scoped to the run and task, the plan file),
  created before its Job (``AlreadyExists`` is the same Secret: a restarted operator launching
  the same attempt again reuses it);
- the session's cost when its runner could not report it: runners report their cost over HTTP
  to the task manager; when that report is missing, the cost named in the termination message
  is recorded here, when the Job is collected — before the engine reads the run's spend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.launcher import COLLECTED_ANNOTATION, JobBuilder, KubeTaskLauncher
from yokeflow.core.records import SessionStatus
from yokeflow.errors import KubeRejectedError
from yokeflow.ports.jobs import JobGateway, JobSight
from yokeflow.ports.launcher import LaunchRequest, Lease, LostSpend, SessionEnded
from yokeflow.ports.store import Store
from yokeflow.specs.names import ANNOTATION_TASK_KEY

__all__ = ["PassSnapshot", "RunTaskLauncher", "SecretBuilder"]

SecretBuilder = Callable[[Lease, LaunchRequest], dict[str, Any]]
"""Builds the Secret a session's Job mounts (its MCP configuration and token)."""


class PassSnapshot:
    """A Job gateway that lists each selector once per reconcile pass (``JobGateway``).

    One pass asks the launcher what lives, what ended and what is queued several times; each
    would list the run's Jobs and their pods again — at a thousand tasks, megabytes of JSON per
    call. The snapshot answers them all from one listing, taken at the pass's first question
    (:meth:`next_pass` forgets it). Its own writes are applied to the snapshot: a Job marked
    collected shows so, a Job created or deleted is listed again at the next pass.
    """

    def __init__(self, jobs: JobGateway) -> None:
        self._jobs = jobs
        self._listed: dict[str, list[JobSight]] = {}

    @property
    def namespace(self) -> str:
        return self._jobs.namespace

    def next_pass(self) -> None:
        self._listed.clear()

    async def observe(self, selector: str) -> list[JobSight]:
        if selector not in self._listed:
            self._listed[selector] = await self._jobs.observe(selector)
        return list(self._listed[selector])

    async def create(self, manifest: dict[str, Any]) -> bool:
        return await self._jobs.create(manifest)

    async def get(self, name: str) -> JobSight | None:
        return await self._jobs.get(name)

    async def delete(self, name: str) -> bool:
        return await self._jobs.delete(name)

    async def annotate(self, name: str, annotations: Mapping[str, str]) -> None:
        await self._jobs.annotate(name, annotations)
        for listed in self._listed.values():
            for index, seen in enumerate(listed):
                if seen.name == name:
                    listed[index] = replace(seen, annotations={**seen.annotations, **annotations})


class RunTaskLauncher:
    """Task Jobs of one run (see the module docstring)."""

    def __init__(
        self,
        *,
        api: KubeApi,
        jobs: JobGateway,
        selector: str,
        build_job: JobBuilder,
        build_secret: SecretBuilder,
        store: Store,
        project_id: int,
        concurrency: int = 1,
    ) -> None:
        self._api = api
        self._namespace = jobs.namespace
        self._gateway = PassSnapshot(jobs)
        self._selector = selector
        self._jobs = KubeTaskLauncher(
            self._gateway, selector, build_job, self._record_cost, concurrency=concurrency
        )
        self._build_secret = build_secret
        self._store = store
        self._project_id = project_id

    def next_pass(self) -> None:
        """A new reconcile pass: the run's Jobs are listed afresh at its first question."""
        self._gateway.next_pass()

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        secret = self._build_secret(lease, request)
        try:
            await self._api.create(f"/api/v1/namespaces/{self._namespace}/secrets", secret)
        except KubeRejectedError as exc:
            if exc.reason != "AlreadyExists":
                raise
        return await self._jobs.launch(lease, request)

    async def live(self) -> Sequence[Lease]:
        return await self._jobs.live()

    async def queued(self) -> frozenset[str]:
        """Task keys whose Job Kueue holds suspended (shown as Queued; never un-suspended)."""
        return frozenset(
            seen.annotations.get(ANNOTATION_TASK_KEY, "")
            for seen in await self._gateway.observe(self._selector)
            if seen.state == "queued" and COLLECTED_ANNOTATION not in seen.annotations
        )

    async def collect(self) -> Sequence[SessionEnded]:
        return await self._jobs.collect()

    async def _record_cost(self, session: SessionEnded) -> None:
        """Record what the report says the session cost, unless the runner already did.

        A runner reports its session's cost itself, over HTTP to the task manager
        (``ports.session_reports``): then a cost row of its session exists and nothing is added.
        When that report was lost, the termination message's cost is recorded on the attempt's
        session row — one opened (and closed) here when the runner never reached the task
        manager. Recording is keyed by the session (the store records a session's cost once),
        so a crash before the Job is marked collected records nothing twice on the next
        collection.
        """
        outcome, lease = session.outcome, session.lease
        if outcome.cost_usd <= 0:
            return
        # The attempt's session rows: opened after its lease was saved (a small margin for
        # clocks that differ between the operator and the database).
        rows = [
            row
            for row in await self._store.list_sessions(self._project_id, task_id=lease.task_id)
            if row.started_at is not None and row.started_at.timestamp() >= lease.started_at - 5
        ]
        paid = {
            cost.session_id
            for cost in await self._store.list_agent_costs(self._project_id)
            if cost.task_id == lease.task_id
        }
        if any(row.id in paid for row in rows):
            return
        model = outcome.model or lease.model or "unknown"
        if rows:
            row = rows[-1]
        else:
            row = await self._store.start_session(
                self._project_id, task_id=lease.task_id, kind="task", model=model
            )
        await self._store.record_agent_cost(
            self._project_id,
            model=model,
            cost_usd=outcome.cost_usd,
            session_id=row.id,
            task_id=lease.task_id,
            operation="task",
        )
        if row.status is SessionStatus.RUNNING:
            await self._store.end_session(
                row.id,
                SessionStatus.SUCCEEDED if outcome.success else SessionStatus.FAILED,
                error=outcome.error,
            )

    async def stop(self, lease: Lease) -> None:
        await self._jobs.stop(lease)

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        return await self._jobs.lost_spend(lease)
