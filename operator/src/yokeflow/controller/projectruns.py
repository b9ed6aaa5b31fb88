"""ProjectRun handlers: read the object, call the service, write status fields, post events."""

from __future__ import annotations

import functools
from typing import Any

import kopf

from yokeflow.controller.dependencies import dependencies_of
from yokeflow.controller.errors import kopf_errors
from yokeflow.services import cluster_run, run_stop

__all__ = ["deleted", "reconcile"]


async def reconcile(
    *, body: kopf.Body, patch: kopf.Patch, memo: Any, namespace: str | None, **_: Any
) -> None:
    """Every change, resume and resync of a ProjectRun comes here (see ``registry``)."""
    dependencies = dependencies_of(memo)
    with kopf_errors():
        report = await cluster_run.reconcile_body(
            body,
            functools.partial(dependencies.secret_keys, namespace or "default"),
            dependencies.clock(),
        )
    patch.status.update(report.status.model_dump(mode="json", exclude_none=True))
    for event in report.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


async def deleted(
    *, body: kopf.Body, memo: Any, name: str, namespace: str | None, **_: Any
) -> None:
    """A deleted run: stop its unfinished Jobs (branches stay on the remote); then kopf removes
    the finalizer and the run goes."""
    dependencies = dependencies_of(memo)
    with kopf_errors():
        stopped = await run_stop.stop_run_jobs(dependencies.jobs(namespace or "default"), name)
    if stopped:
        message = f"Stopped {len(stopped)} unfinished Jobs; every task branch stays on the remote."
        kopf.event(body, type="Normal", reason="Cancelled", message=message)
