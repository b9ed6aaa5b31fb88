"""ProjectRun handlers: read the object, call the service, write status fields, post events."""

from __future__ import annotations

import functools
from typing import Any

import kopf

from yokeflow.controller.dependencies import dependencies_of
from yokeflow.controller.errors import kopf_errors
from yokeflow.services import cluster_run

__all__ = ["reconcile"]


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
