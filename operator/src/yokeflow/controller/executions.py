"""Composing one ProjectRun's execution: the engine's ports bound to this cluster.

For a ProjectRun whose inline plan resolved, :func:`open_execution` stores the plan (once) and
builds the :class:`~yokeflow.services.cluster_execution.ClusterExecution` the daemon drives: the
cluster workspace on the run's remote, task Jobs (``specs.task_job``) with their token Secrets,
the merge lane's Jobs (``specs.merge_job``), the operator's owner id, its store and clock.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yokeflow.adapters.clock import SystemClock
from yokeflow.adapters.git.remote import LsRemote
from yokeflow.adapters.kube.task_batches import TaskBatchMirror
from yokeflow.adapters.kube.task_jobs import RunTaskLauncher
from yokeflow.api.v1alpha1 import BatchTask, ProjectRun, ProjectRunSpec
from yokeflow.controller.dependencies import OperatorDependencies
from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.core.events import Event
from yokeflow.core.records import Project
from yokeflow.core.schedule import Limits
from yokeflow.core.stored_plan import plan_of
from yokeflow.errors import ConfigError, KubeRejectedError
from yokeflow.ports.launcher import LaunchRequest, Lease
from yokeflow.services.agent_sessions import RunBudgetLedger
from yokeflow.services.cluster_execution import (
    BatchCounter,
    ClusterExecution,
    SpecModels,
    project_key,
    stored_project,
)
from yokeflow.services.cluster_planning import PlanningJobs
from yokeflow.services.cluster_workspace import ClusterWorkspace
from yokeflow.services.costs import CostEstimator, RunBudget, price_table
from yokeflow.services.job_merge_lane import JobMergeLane
from yokeflow.services.planning import plan_accepted
from yokeflow.services.reconcile import RunContext
from yokeflow.services.run_stop import run_selector
from yokeflow.settings import CostSettings
from yokeflow.specs.branches import integration_branch, task_branch
from yokeflow.specs.inline_plan import plan_yaml, task_plan, to_plan
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import (
    COMPONENT_AGENT,
    COMPONENT_MERGE,
    LABEL_COMPONENT,
    Owner,
    planning_job_name,
    task_job_name,
)
from yokeflow.specs.network_policy import build_agent_network_policy, egress_target
from yokeflow.specs.objects import Toleration
from yokeflow.specs.planning_job import build_planning_job, build_planning_secret
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import build_task_job, build_task_secret

__all__ = [
    "RunExecution",
    "ensure_network_policy",
    "limits_of",
    "open_execution",
    "planning_jobs",
    "planning_model",
]

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
    budget: RunBudget
    """The run's budget (``spec.budget``; its limit is read again on every pass)."""
    budget_port: RunBudgetLedger
    """The engine's view of it, given to the engine while the run has a limit."""

    async def limit_budget(self, limit_usd: Decimal | None) -> None:
        """The run's budget limit as its spec says now: the engine checks launches against it
        while there is one (a run without a limit pays for no estimates)."""
        await self.budget.set_limit(limit_usd)
        context = self.execution.context
        if limit_usd is None:
            context.budget = None
        elif context.budget is None:
            context.budget = self.budget_port
            await self.budget_port.observe_spend(
                await context.store.get_project_cost_total(context.project_id)
            )


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


async def ensure_network_policy(
    dependencies: OperatorDependencies, run: ProjectRun, namespace: str
) -> bool:
    """Create the run's NetworkPolicy (``specs.network_policy``) unless the settings turn it off;
    one that exists already gets the rules of now (the operator's pod address or settings may
    have changed since it was created). Whether one was asked for."""
    own = dependencies.settings
    if not own.agent_network_policy:
        return False
    pods = pod_settings(dependencies)
    name = str(run.metadata["name"])
    owner = Owner("yokeflow.io/v1alpha1", "ProjectRun", name, str(run.metadata["uid"]))
    model = egress_target(
        pods.model_endpoint or "https://api.anthropic.com", cidr=own.egress_model_cidr
    )
    mcp = egress_target(
        pods.mcp_url or "http://127.0.0.1",
        cidr=own.egress_mcp_cidr,
        pod_labels=dict(own.egress_mcp_pod_labels),
        namespace=own.egress_mcp_namespace,
    )
    if model is None or mcp is None:
        raise ConfigError("the model endpoint and the MCP URL must be network URLs")
    policy = build_agent_network_policy(
        run=name,
        namespace=namespace,
        owner=owner,
        model=model,
        mcp=mcp,
        git=egress_target(run.spec.repository.url, cidr=own.egress_git_cidr),
    )
    path = f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
    try:
        await dependencies.api.create(path, dict(policy))
    except KubeRejectedError as exc:
        if exc.reason != "AlreadyExists":
            raise
        await dependencies.api.patch(
            f"{path}/{policy['metadata']['name']}", {"spec": policy["spec"]}
        )
    return True


def planning_model(dependencies: OperatorDependencies, spec: ProjectRunSpec) -> str:
    """The planning session's model: the run's default model, else the operator's (a tier
    name becomes its model id)."""
    everything = dependencies.everything
    default = everything.cost.default_model if everything is not None else "claude-sonnet-4-5"
    tiers = dict(everything.cost.model_ids) if everything is not None else {}
    chosen = spec.models.default or default
    return tiers.get(chosen, chosen)


def planning_jobs(
    dependencies: OperatorDependencies, run: ProjectRun, namespace: str
) -> PlanningJobs:
    """The run's planning Jobs (``specs.planning_job``): one per attempt, with its Secret (the
    spec text, the MCP configuration with a token scoped to the run's project, expiring)."""
    mcp = dependencies.mcp
    if mcp is None:
        raise ConfigError("this operator has no database: it cannot plan runs")
    spec = run.spec
    name = str(run.metadata["name"])
    owner = Owner("yokeflow.io/v1alpha1", "ProjectRun", name, str(run.metadata["uid"]))
    pods = pod_settings(dependencies)
    jobs = dependencies.jobs(namespace)
    model = planning_model(dependencies, spec)

    async def create(project: Project, attempt: int) -> None:
        job_name = planning_job_name(name, attempt)
        secret = build_planning_secret(
            run=name,
            namespace=namespace,
            owner=owner,
            attempt=attempt,
            spec=spec,
            mcp_url=pods.mcp_url,
            token=mcp.token_for(project.id, None, job_name),
        )
        try:
            await dependencies.api.create(f"/api/v1/namespaces/{namespace}/secrets", dict(secret))
        except KubeRejectedError as exc:
            if exc.reason != "AlreadyExists":
                raise
        job = build_planning_job(
            run=name,
            namespace=namespace,
            spec=spec,
            owner=owner,
            attempt=attempt,
            model=model,
            settings=pods,
        )
        await jobs.create(dict(job))

    return PlanningJobs(jobs, functools.partial(planning_job_name, name), create, model)


async def open_execution(
    dependencies: OperatorDependencies, run: ProjectRun, namespace: str
) -> RunExecution:
    """Store the run's plan (once) and compose its execution (see the module docstring)."""
    store, mcp = dependencies.store, dependencies.mcp
    if store is None or mcp is None:
        raise ConfigError("this operator has no database: it cannot carry runs out")
    spec = run.spec
    name = str(run.metadata["name"])
    uid = str(run.metadata["uid"])
    key = project_key(namespace, name, uid)
    if spec.plan is not None:
        plan = to_plan(spec.plan)
        project = await stored_project(store, key, plan, spec.repository.url)
        tasks = await store.list_tasks(project.id)
        stored_epics = await store.list_epics(project.id)
    else:  # planned by its planning Jobs
        found = await store.get_project_by_name(key)
        if found is None or not plan_accepted(found):
            raise ConfigError(f"the run {name} has no accepted plan yet")
        project = found
        tasks = await store.list_tasks(project.id)
        stored_epics = await store.list_epics(project.id)
        plan = plan_of(name, stored_epics, tasks)
    epic_keys = {e.id: e.key for e in stored_epics}
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
    cost_settings = everything.cost if everything is not None else CostSettings()
    budget = RunBudget(spec.budget.limit_usd, cost_settings.approaching_fraction)
    budget_port = RunBudgetLedger(
        budget, CostEstimator(store, price_table(cost_settings)), project.id
    )
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
        budget=budget_port if spec.budget.limit_usd is not None else None,
        session_handle=lambda task: task_job_name(name, task.key, task.attempts),
        started_at=clock.now(),
        launch_concurrency=dependencies.settings.launch_concurrency,
    )
    mirror = TaskBatchMirror(dependencies.api, namespace, owner, spec.parallel.merge_strategy)
    execution = ClusterExecution(context, workspace, lane, counter)
    return RunExecution(
        execution, launcher, mirror, project.id, epics, branches, budget, budget_port
    )
