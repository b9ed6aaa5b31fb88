"""``yokeflow operator``: run the Kubernetes operator (kopf) in the foreground."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from yokeflow.controller.main import run_operator
from yokeflow.settings import load_settings

__all__ = ["operator"]


def operator(
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="A kubeconfig file; unset uses the pod's service account."),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option(
            help="Serve ProjectRuns of this namespace (repeatable); unset: every namespace."
        ),
    ] = None,
    liveness_port: Annotated[
        int | None, typer.Option(help="Port of the /healthz liveness endpoint; 0 serves none.")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Port of the Prometheus /metrics endpoint; 0 serves none.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every handler call.")
    ] = False,
) -> None:
    """Run the Kubernetes operator: reconcile ProjectRuns until stopped (SIGTERM or Ctrl-C)."""
    overrides: dict[str, Any] = {}
    if kubeconfig is not None:
        overrides["kubeconfig"] = kubeconfig
    if namespace:
        overrides["namespaces"] = namespace
    if liveness_port is not None:
        overrides["liveness_port"] = liveness_port
    if metrics_port is not None:
        overrides["metrics_port"] = metrics_port
    settings = load_settings(overrides={"operator": overrides})
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(run_operator(settings))
