"""The operator's composition root: build the dependencies, then run kopf until stopped.

One replica (deploy with ``strategy: Recreate``): kopf's peering is not leader election, and
``standalone`` keeps it from waiting for peers.
"""

from __future__ import annotations

import asyncio

import kopf

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.controller.dependencies import OperatorDependencies
from yokeflow.controller.registry import build_registry
from yokeflow.settings import Settings

__all__ = ["run_operator"]


async def run_operator(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve ProjectRuns in the configured namespaces (or the whole cluster) until ``stop``."""
    own = settings.operator
    api = await KubeApi.connect(own.kubeconfig)
    try:
        dependencies = OperatorDependencies(api=api, settings=own)
        port = own.liveness_port
        await kopf.operator(
            registry=build_registry(own),
            memo=kopf.Memo(dependencies=dependencies),
            namespaces=own.namespaces,
            clusterwide=not own.namespaces,
            standalone=True,
            liveness_endpoint=f"http://0.0.0.0:{port}/healthz" if port else None,
            stop_flag=stop,
        )
    finally:
        await api.close()
