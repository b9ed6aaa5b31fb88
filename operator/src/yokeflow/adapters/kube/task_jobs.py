"""A run's task sessions as Jobs, with what a Job needs around it: its token Secret and its cost.

:class:`RunTaskLauncher` is the ``TaskLauncher`` the operator gives the engine for one
ProjectRun. It wraps :class:`~yokeflow.adapters.kube.launcher.KubeTaskLauncher` (one Job per
lease, named by the lease's handle, collected once) and adds

- the task's Secret (MCP configuration with a token scoped to the run and task, the plan file),
  created before its Job (``AlreadyExists`` is the same Secret: a restarted operator launching
  the same attempt again reuses it);
- the session's cost: agents never reach the database, so the cost the runner reported in its
  termination message is recorded in the store here, when the Job is collected — before the
  engine reads the run's spend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.launcher import JobBuilder, KubeTaskLauncher
from yokeflow.errors import KubeRejectedError
from yokeflow.ports.jobs import JobGateway
from yokeflow.ports.launcher import LaunchRequest, Lease, LostSpend, SessionEnded
from yokeflow.ports.store import Store

__all__ = ["RunTaskLauncher", "SecretBuilder"]

SecretBuilder = Callable[[Lease, LaunchRequest], dict[str, Any]]
"""Builds the Secret a session's Job mounts (its MCP configuration and token)."""


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
    ) -> None:
        self._api = api
        self._namespace = jobs.namespace
        self._jobs = KubeTaskLauncher(jobs, selector, build_job, self._record_cost)
        self._build_secret = build_secret
        self._store = store
        self._project_id = project_id

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

    async def collect(self) -> Sequence[SessionEnded]:
        return await self._jobs.collect()

    async def _record_cost(self, session: SessionEnded) -> None:
        # Before the Job is marked collected: a crash in between records it again on the next
        # collection rather than never.
        outcome = session.outcome
        if outcome.cost_usd > 0:
            await self._store.record_agent_cost(
                self._project_id,
                model=outcome.model or session.lease.model or "unknown",
                cost_usd=outcome.cost_usd,
                task_id=session.lease.task_id,
                operation="task",
            )

    async def stop(self, lease: Lease) -> None:
        await self._jobs.stop(lease)

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        return await self._jobs.lost_spend(lease)
