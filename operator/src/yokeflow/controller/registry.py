"""Every handler of the operator, registered explicitly on a fresh ``kopf.OperatorRegistry``."""

from __future__ import annotations

from typing import Any

import kopf

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.controller import projectruns
from yokeflow.controller.dependencies import dependencies_of
from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.settings import OperatorSettings

__all__ = ["GROUP", "VERSION", "build_registry", "last_handled_storage"]

GROUP = "yokeflow.io"
VERSION = "v1alpha1"
_PREFIX = "yokeflow.io"


def build_registry(
    settings: OperatorSettings, metrics: OperatorMetrics | None = None
) -> kopf.OperatorRegistry:
    """A registry with the operator's handlers (counted by ``metrics``, served on
    ``settings.metrics_port``); nothing is registered at import time."""
    registry = kopf.OperatorRegistry()
    runs = (GROUP, VERSION, "projectruns")
    metrics = metrics or OperatorMetrics()

    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        _configure(settings, own)

    own = settings
    kopf.on.startup(registry=registry)(configure)
    if settings.metrics_port:
        metrics.serve_on(registry, settings.metrics_port)
    kopf.on.login(registry=registry)(_login)
    kopf.on.probe(registry=registry, id="api")(_probe)
    # One daemon per run does every pass (the run's only status writer); a spec edit wakes it,
    # and so does a change of one of its Jobs (the Job view's watch: controller/dependencies.py).
    kopf.daemon(*runs, registry=registry, cancellation_timeout=10.0)(projectruns.drive)
    kopf.on.update(*runs, registry=registry, field="spec")(projectruns.spec_changed)
    kopf.on.delete(*runs, registry=registry)(metrics.forgotten(projectruns.deleted))
    return registry


def last_handled_storage() -> kopf.AnnotationsDiffBaseStorage:
    """Where kopf keeps the last handled spec: an annotation without the spec text and the
    inline plan. Kept in, they would repeat up to 256 KiB (a 2,000-task plan is ~300 KB of JSON)
    in an annotation, over the API server's limit for all of an object's annotations together;
    an edit of either reaches the run's daemon at its next resync instead of at once."""
    return kopf.AnnotationsDiffBaseStorage(
        prefix=_PREFIX,
        key="last-handled-configuration",
        ignored_fields=["spec.spec", "spec.plan"],
    )


def _configure(kopf_settings: kopf.OperatorSettings, own: OperatorSettings) -> None:
    # Progress and the last-handled spec live in annotations: the strict status schema would
    # prune kopf's own status fields.
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=_PREFIX)
    kopf_settings.persistence.diffbase_storage = last_handled_storage()
    kopf_settings.persistence.finalizer = f"{_PREFIX}/operator"
    # Watches can go silent without an error; bound them on both sides.
    kopf_settings.watching.server_timeout = own.watch_server_timeout_seconds
    kopf_settings.watching.client_timeout = own.watch_client_timeout_seconds
    kopf_settings.watching.connect_timeout = 30
    kopf_settings.posting.level = 20  # INFO and above become events


async def _login(memo: Any, **_: Any) -> kopf.ConnectionInfo:
    api: KubeApi = dependencies_of(memo).api
    connection = await api.connection()
    return kopf.ConnectionInfo(
        server=connection.server,
        ca_path=connection.ca_path,
        insecure=connection.insecure,
        scheme=connection.scheme,
        token=connection.token,
        certificate_path=connection.certificate_path,
        private_key_path=connection.private_key_path,
    )


async def _probe(memo: Any, **_: Any) -> str:
    """The liveness endpoint's check: the API server answers this operator."""
    await dependencies_of(memo).api.get("/version")
    return "ok"
