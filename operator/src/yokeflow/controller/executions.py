"""Composing one ProjectRun's execution: the engine's ports bound to this cluster.

For a ProjectRun whose inline plan resolved, :func:`open_execution` stores the plan (once) and
builds the :class:`~yokeflow.services.cluster_execution.ClusterExecution` the daemon drives: the
cluster workspace on the run's remote, task Jobs (``specs.task_job``) with their token Secrets,
the merge lane's Jobs (``specs.merge_job``), the operator's owner id, its store and clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from yokeflow.adapters.clock import SystemClock
from yokeflow.adapters.git.remote import LsRemote
from yokeflow.adapters.kube.task_batches import TaskBatchMirror
from yokeflow.adapters.kube.task_jobs import RunTaskLauncher
from yokeflow.api.v1alpha1 import BatchTask, ProjectRun, ProjectRunSpec
from yokeflow.controller.dependencies import OperatorDependencies
from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.core.events import Event
from yokeflow.core.schedule import Limits
from yokeflow.errors import ConfigError
from yokeflow.ports.launcher import LaunchRequest, Lease
from yokeflow.services.cluster_execution import (
    BatchCounter,
    ClusterExecution,
    SpecModels,
    project_key,
    stored_project,
)
from yokeflow.services.cluster_workspace import ClusterWorkspace
from yokeflow.services.job_merge_lane import JobMergeLane
from yokeflow.services.reconcile import RunContext
from yokeflow.services.run_stop import run_selector
from yokeflow.specs.branches import integration_branch, task_branch
from yokeflow.specs.inline_plan import plan_yaml, task_plan, to_plan
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import (
    COMPONENT_AGENT,
    COMPONENT_MERGE,
    LABEL_COMPONENT,
    Owner,
    task_job_name,
)
from yokeflow.specs.objects import Toleration
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import build_task_job, build_task_secret

__all__ = ["RunExecution", "limits_of", "open_execution"]

log = logging.getLogger(__name__)


@dataclass
class RunExecution:
    """One run's execution and what mirrors it into the cluster."""

    execution: ClusterExecution
    launcher: RunTaskLauncher
    mirror: TaskBatchMirror
    project_id: int
    epics: dict[str, str]
    """Task key → epic key."""
    branches: dict[int, str]
    """Task id → its branch."""


def limits_of(spec: ProjectRunSpec) -> Limits:
    """The engine's limits from the run's spec (read again on every pass: a spec edit applies)."""
    parallel, retries = spec.parallel, spec.agent.retries
    return Limits(
        max_concurrency=parallel.max_concurrency,
        schedule=parallel.schedule,
        max_attempts=retries.max_attempts,
        retry_backoff=float(retries.backoff_seconds),
        fail_fast=parallel.fail_fast,
    )


class _LoggedEvents:
    """The engine's events of a run, logged and counted by the operator's metrics (the
    ProjectRun's status and events say the rest)."""

    def __init__(self, run: str, metrics: OperatorMetrics | None = None) -> None:
        self._run = run
        self._metrics = metrics

    def publish(self, event: Event) -> None:
        log.debug("%s: %s", self._run, event)
        if self._metrics is not None:
            self._metrics.follow(self._run, event)


def pod_settings(dependencies: OperatorDependencies) -> PodSettings:
    own = dependencies.settings
    everything = dependencies.everything
    secret: tuple[str, str] | None = None
    if own.model_api_key_secret:
        name, _, key = own.model_api_key_secret.partition("/")
        secret = (name, key or "api-key")
    mcp = dependencies.mcp
    tolerations: list[Toleration] = []
    for wanted in own.pod_tolerations:
        toleration: Toleration = {"operator": wanted.operator}
        if wanted.key is not None:
            toleration["key"] = wanted.key
        if wanted.value is not None:
            toleration["value"] = wanted.value
        if wanted.effect is not None:
            toleration["effect"] = wanted.effect
        tolerations.append(toleration)
    return PodSettings(
        image=own.agent_image,
        mcp_url=mcp.url if mcp is not None else "",
        model_endpoint=everything.agent.model_endpoint if everything is not None else None,
        api_key_secret=secret,
        node_selector=dict(own.pod_node_selector),
        tolerations=tuple(tolerations),
    )


async def open_execution(
    dependencies: OperatorDependencies, run: ProjectRun, namespace: str
) -> RunExecution:
    """Store the run's plan (once) and compose its execution (see the module docstring)."""
    store, mcp = dependencies.store, dependencies.mcp
    if store is None or mcp is None:
        raise ConfigError("this operator has no database: it cannot carry runs out")
    spec = run.spec
    if spec.plan is None:
        raise ConfigError("only runs with an inline plan can be carried out")
    name = str(run.metadata["name"])
    uid = str(run.metadata["uid"])
    plan = to_plan(spec.plan)
    project = await stored_project(
        store, project_key(namespace, name, uid), plan, spec.repository.url
    )
    tasks = await store.list_tasks(project.id)
    epic_keys = {e.id: e.key for e in await store.list_epics(project.id)}
    epics = {t.key: epic_keys[t.epic_id] for t in tasks}
    branches = {t.id: task_branch(name, t.key) for t in tasks}
    owner = Owner("yokeflow.io/v1alpha1", "ProjectRun", name, uid)
    jobs = dependencies.jobs(namespace)
    workspace = ClusterWorkspace(
        ledger=store,
        remote=LsRemote(spec.repository.url),
        project_id=project.id,
        url=spec.repository.url,
        base_branch=spec.repository.base_branch,
        integration_branch=integration_branch(name),
        task_branch=branches,
    )
    pods = pod_settings(dependencies)
    counter = BatchCounter()

    def job_for(lease: Lease, request: LaunchRequest) -> dict[str, Any]:
        task = request.task
        return dict(
            build_task_job(
                run=name,
                namespace=namespace,
                spec=spec,
                batch=owner,
                batch_number=counter.next,
                task=BatchTask(
                    key=task.key,
                    title=task.title[:200],
                    epic=epics[task.key],
                    model=request.model,
                    branch=branches[task.id],
                ),
                attempt=task.attempts,
                base_commit=request.worktree.base_commit or "",
                integration_branch=workspace.integration_branch,
                settings=pods,
            )
        )

    def secret_for(lease: Lease, request: LaunchRequest) -> dict[str, Any]:
        task = request.task
        return dict(
            build_task_secret(
                run=name,
                namespace=namespace,
                batch=owner,
                batch_number=counter.next,
                task=task.key,
                attempt=task.attempts,
                mcp_url=pods.mcp_url,
                token=mcp.token_for(project.id, task.id, lease.handle),
                plan_yaml=plan_yaml(task_plan(plan, task.key)),
            )
        )

    def merge_for(number: int, merging: Any, head: str) -> dict[str, Any]:
        return dict(
            build_merge_job(
                run=name,
                namespace=namespace,
                spec=spec,
                batch=owner,
                batch_number=number,
                tasks=list(merging),
                integration_branch=workspace.integration_branch,
                integration_commit=head,
                settings=pods,
            )
        )

    selector = run_selector(name)
    launcher = RunTaskLauncher(
        api=dependencies.api,
        jobs=jobs,
        selector=f"{selector},{LABEL_COMPONENT}={COMPONENT_AGENT}",
        build_job=job_for,
        build_secret=secret_for,
        store=store,
        project_id=project.id,
        concurrency=dependencies.settings.launch_concurrency,
    )
    lane = JobMergeLane(
        jobs=jobs,
        store=store,
        workspace=workspace,
        project_id=project.id,
        selector=f"{selector},{LABEL_COMPONENT}={COMPONENT_MERGE}",
        build=merge_for,
        branches=branches,
        max_in_flight=dependencies.settings.merge_jobs_per_run,
    )
    everything = dependencies.everything
    clock = SystemClock()
    context = RunContext(
        project_id=project.id,
        owner=dependencies.settings.owner,
        limits=limits_of(spec),
        store=store,
        workspace=workspace,
        launcher=launcher,
        leases=store,
        owners=store,
        merges=lane,
        models=SpecModels(
            spec.models,
            everything.cost.default_model if everything is not None else "claude-sonnet-4-5",
            dict(everything.cost.model_ids) if everything is not None else {},
        ),
        clock=clock,
        events=_LoggedEvents(f"{namespace}/{name}", dependencies.metrics),
        session_handle=lambda task: task_job_name(name, task.key, task.attempts),
        started_at=clock.now(),
        launch_concurrency=dependencies.settings.launch_concurrency,
    )
    mirror = TaskBatchMirror(dependencies.api, namespace, owner, spec.parallel.merge_strategy)
    execution = ClusterExecution(context, workspace, lane, counter)
    return RunExecution(execution, launcher, mirror, project.id, epics, branches)
