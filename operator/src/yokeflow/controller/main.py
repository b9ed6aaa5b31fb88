"""The operator's composition root: build the dependencies, then run kopf until stopped.

One replica (deploy with ``strategy: Recreate``): kopf's peering is not leader election, and
``standalone`` keeps it from waiting for peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import kopf

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.controller.dependencies import OperatorDependencies
from yokeflow.controller.mcp_server import OperatorTaskManager
from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.controller.registry import build_registry
from yokeflow.errors import AlreadyExistsError, ConfigError
from yokeflow.settings import OperatorSettings, Settings

log = logging.getLogger(__name__)

__all__ = ["run_operator"]


async def run_operator(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve ProjectRuns in the configured namespaces (or the whole cluster) until ``stop``."""
    own = settings.operator
    api = await KubeApi.connect(own.kubeconfig)
    try:
        async with _engine(settings) as (store, mcp):
            dependencies = OperatorDependencies(
                api=api,
                settings=own,
                everything=settings,
                store=store,
                mcp=mcp,
                metrics=OperatorMetrics(),
            )
            try:
                await _serve(dependencies, own, stop)
            finally:
                await dependencies.close()
    finally:
        await api.close()


@contextlib.asynccontextmanager
async def _engine(
    settings: Settings,
) -> AsyncIterator[tuple[PostgresStore | None, OperatorTaskManager | None]]:
    """The store (migrated), the run owner held, the MCP task manager served — or nothing when
    no database is configured (runs are then validated and planned, not carried out)."""
    url = settings.database.url
    if url is None:
        log.warning("no database.url: ProjectRuns are validated and planned, not carried out")
        yield None, None
        return
    await migrate(url.get_secret_value())
    store = await PostgresStore.connect(
        url.get_secret_value(),
        min_size=settings.database.pool_min_size,
        max_size=settings.database.pool_max_size,
    )
    own = settings.operator
    try:
        await _hold_owner(store, own.owner)
        key = own.mcp_signing_key
        mcp = OperatorTaskManager(
            store,
            port=own.mcp_port,
            public_url=own.mcp_url,
            signing_key=key.get_secret_value().encode() if key is not None else None,
            token_ttl_seconds=settings.agent.timeout_seconds + 3600,
        )
        await mcp.start()
        try:
            yield store, mcp
        finally:
            await mcp.stop()
    finally:
        await store.close()


async def _hold_owner(store: PostgresStore, owner: str) -> None:
    # A predecessor killed a moment ago may still hold the owner's lock until PostgreSQL sees
    # its connection close (at once for a dead process; a little longer for a lost host).
    for _ in range(60):
        try:
            await store.hold_owner(owner)
            return
        except AlreadyExistsError:
            await asyncio.sleep(1.0)
    raise ConfigError(f"another operator holds owner {owner!r}: run one replica")


async def _serve(
    dependencies: OperatorDependencies, own: OperatorSettings, stop: asyncio.Event | None
) -> None:
    port = own.liveness_port
    await kopf.operator(
        registry=build_registry(own, dependencies.metrics),
        memo=kopf.Memo(dependencies=dependencies),
        namespaces=own.namespaces,
        clusterwide=not own.namespaces,
        standalone=True,
        liveness_endpoint=f"http://0.0.0.0:{port}/healthz" if port else None,
        stop_flag=stop,
    )
