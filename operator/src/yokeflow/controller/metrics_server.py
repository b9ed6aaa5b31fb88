"""The operator's ``/metrics``: ProjectRuns by phase, their tasks, budgets and reconciles, and
the sessions, merges and batches of the runs it carries out (from the engine's events).

What a reconcile wrote into a ProjectRun's status is remembered per run (``namespace/name``)
and forgotten when the run is deleted; the gauges are rebuilt from that at every scrape, so a
deleted run's series go. Reconciles are counted by result, and the ones that raised by error
class. The families are :class:`~yokeflow.adapters.prometheus.catalog.OperatorFamilies`; the
server is a small aiohttp application (kopf's own web stack) on ``operator.metrics_port``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from yokeflow.adapters.prometheus.catalog import OperatorFamilies
from yokeflow.core.events import Event
from yokeflow.core.run_track import RunTrack
from yokeflow.errors import PermanentError, TemporaryError

__all__ = ["OperatorMetrics", "RunSeen"]

_ACTIVE = frozenset({"Pending", "Planning", "Running", "Merging"})
"""Phases in which a run may still spend (its budget series are shown)."""
_STATES = ("pending", "queued", "running", "succeeded", "failed", "blocked", "cancelled")

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RunSeen:
    """What the last reconcile of one ProjectRun reported."""

    phase: str
    tasks: Mapping[str, int]
    cost_usd: float
    limit_usd: float | None


def _run_seen(spec: Mapping[str, Any], status: Mapping[str, Any]) -> RunSeen:
    tasks = status.get("tasks") or {}
    limit = (spec.get("budget") or {}).get("limitUsd")
    return RunSeen(
        phase=str(status.get("phase") or "Pending"),
        tasks={state: int(tasks.get(state) or 0) for state in _STATES},
        cost_usd=float(status.get("costUsd") or 0),
        limit_usd=float(limit) if limit is not None else None,
    )


class OperatorMetrics:
    """The operator's families, the runs it saw, and the server exposing them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.families = OperatorFamilies(self.registry)
        self.runs: dict[str, RunSeen] = {}
        self._tracks: dict[str, RunTrack] = {}
        self._runner: web.AppRunner | None = None

    def follow(self, run: str, event: Event) -> None:
        """One engine event of the run ``run`` (``namespace/name``) this operator carries out:
        its sessions, merges and batches are counted as the API counts its own runs'."""
        self.families.events.follow(self._tracks.setdefault(run, RunTrack()), event)

    def passed(
        self,
        body: Mapping[str, Any],
        status: Mapping[str, Any],
        seconds: float,
        error: BaseException | None = None,
    ) -> None:
        """One pass of a ProjectRun's daemon: counted by result (an error by its class), timed,
        and the status it wrote remembered."""
        f = self.families
        f.reconcile_duration.observe(seconds)
        if error is not None:
            kind = "temporary_error" if isinstance(error, TemporaryError) else "error"
            if isinstance(error, PermanentError):
                kind = "permanent_error"
            f.reconciles.labels(result=kind).inc()
            f.reconcile_errors.labels(error=type(error).__name__[:64]).inc()
            return
        f.reconciles.labels(result="ok").inc()
        meta = body.get("metadata", {})
        key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        self.runs[key] = _run_seen(body.get("spec") or {}, status)

    def forgotten(self, handler: Handler) -> Handler:
        """``handler`` (a ProjectRun's deletion) that forgets the run once it succeeded."""

        @functools.wraps(handler)
        async def forget(*, body: kopf.Body, **kwargs: Any) -> Any:
            result = await handler(body=body, **kwargs)
            meta = body.get("metadata", {})
            key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
            self.runs.pop(key, None)
            self._tracks.pop(key, None)
            return result

        return forget

    def render(self) -> bytes:
        """The exposition text, the run gauges rebuilt from the runs seen."""
        f = self.families
        for family in (f.project_run_cost, f.budget, f.budget_remaining):
            family.clear()
        phases: dict[str, int] = {}
        states = dict.fromkeys(_STATES, 0)
        for key, run in self.runs.items():
            phases[run.phase] = phases.get(run.phase, 0) + 1
            for state, count in run.tasks.items():
                states[state] += count
            f.project_run_cost.labels(project=key).set(run.cost_usd)
            if run.limit_usd is not None and run.phase in _ACTIVE:
                f.budget.labels(project=key).set(run.limit_usd)
                f.budget_remaining.labels(project=key).set(max(0.0, run.limit_usd - run.cost_usd))
        f.project_runs.clear()
        for phase, count in phases.items():
            f.project_runs.labels(phase=phase).set(count)
        for state, count in states.items():
            f.project_run_tasks.labels(state=state).set(count)
        f.agents_running.set(states["running"])
        f.queue_depth.set(states["queued"])
        return generate_latest(self.registry)

    def serve_on(self, registry: kopf.OperatorRegistry, port: int) -> None:
        """Serve ``/metrics`` on ``port`` while the operator runs (its startup and cleanup)."""

        async def serve_metrics(
            logger: logging.Logger | logging.LoggerAdapter[Any], **_: Any
        ) -> None:
            try:
                await self.start(port)
            except OSError as exc:  # the operator matters more than its metrics; alerts tell
                logger.error(
                    "/metrics is not served: port %s cannot be listened on (%s)", port, exc
                )

        async def stop_metrics(**_: Any) -> None:
            await self.stop()

        kopf.on.startup(registry=registry)(serve_metrics)
        kopf.on.cleanup(registry=registry)(stop_metrics)

    async def start(self, port: int, host: str = "0.0.0.0") -> int:
        """Serve ``/metrics`` on ``port`` (0: a free one); returns the port it listens on."""

        async def metrics(_: web.Request) -> web.Response:
            return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        return int(addresses[0][1]) if addresses else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
