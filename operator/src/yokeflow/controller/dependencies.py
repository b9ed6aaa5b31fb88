"""What every handler needs, built once by the composition root and kept in kopf's memo."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import kopf

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.job_view import JobView
from yokeflow.adapters.kube.jobs import CreationLimit, KubeJobGateway
from yokeflow.errors import KubeRejectedError
from yokeflow.settings import OperatorSettings, Settings
from yokeflow.specs.names import LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY

if TYPE_CHECKING:
    from yokeflow.adapters.postgres import PostgresStore
    from yokeflow.controller.executions import RunExecution
    from yokeflow.controller.mcp_server import OperatorTaskManager
    from yokeflow.controller.metrics_server import OperatorMetrics
    from yokeflow.services.cluster_planning import Planned

__all__ = ["OperatorDependencies", "dependencies_of", "utc_now"]


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass
class OperatorDependencies:
    """The API client, the settings, the clock and one Job gateway per namespace; the store and
    the MCP task manager when runs are carried out; each run's execution and wake-up event."""

    api: KubeApi
    settings: OperatorSettings
    clock: Callable[[], datetime.datetime] = utc_now
    everything: Settings | None = None
    """All settings (the engine's defaults: model, model endpoint)."""
    store: PostgresStore | None = None
    mcp: OperatorTaskManager | None = None
    metrics: OperatorMetrics | None = None
    executions: dict[str, RunExecution] = field(default_factory=dict)
    """ProjectRun uid → its execution (rebuilt after a restart from the store and the Jobs)."""
    plans: dict[str, Planned] = field(default_factory=dict)
    """ProjectRun uid → its accepted plan, for a run planned by planning Jobs (its ``Planned``
    condition is written from it on every pass)."""
    written: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(namespace, name) → the status last written for that run."""
    _wakers: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    _gateways: dict[str, KubeJobGateway] = field(default_factory=dict)
    _views: dict[str, JobView] = field(default_factory=dict)

    def waker(self, namespace: str, run: str) -> asyncio.Event:
        """Set when something of the run changed (one of its Jobs, its spec)."""
        return self._wakers.setdefault((namespace, run), asyncio.Event())

    def wake(self, namespace: str, run: str) -> None:
        event = self._wakers.get((namespace, run))
        if event is not None:
            event.set()

    def jobs(self, namespace: str) -> KubeJobGateway:
        """The namespace's Job gateway (one per namespace, so its rate limit is shared), reading
        the operator's Jobs from a watched view of the namespace; a change of a run's Job wakes
        that run."""
        if namespace not in self._gateways:
            limit = CreationLimit(
                per_second=self.settings.job_creations_per_second,
                burst=self.settings.job_creation_burst,
            )
            view = JobView(
                self.api,
                namespace,
                f"{LABEL_MANAGED_BY}={MANAGED_BY}",
                on_change=lambda labels: self._job_changed(namespace, labels),
                timeout_seconds=self.settings.watch_server_timeout_seconds,
            )
            self._views[namespace] = view
            self._gateways[namespace] = KubeJobGateway(self.api, namespace, limit, view=view)
        return self._gateways[namespace]

    def _job_changed(self, namespace: str, labels: Mapping[str, str]) -> None:
        run = labels.get(LABEL_RUN)
        if run:
            self.wake(namespace, str(run))

    async def close(self) -> None:
        """Stop the Job views' watches."""
        for view in self._views.values():
            await view.close()
        self._views.clear()
        self._gateways.clear()

    async def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        """The keys of Secret ``name`` (None when there is no such Secret)."""
        try:
            secret = await self.api.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except KubeRejectedError as exc:
            if exc.reason == "NotFound":
                return None
            raise
        return {*(secret.get("data") or {}), *(secret.get("stringData") or {})}


def dependencies_of(memo: Any) -> OperatorDependencies:
    """The dependencies the composition root put in kopf's memo."""
    return cast(OperatorDependencies, cast(kopf.Memo, memo)["dependencies"])
