"""ProjectRun handlers: read the object, call the services, write status fields, post events.

Each ProjectRun has one kopf daemon (:func:`drive`) for as long as it exists; it is the only
writer of the run's status. A pass validates the run (``services.cluster_run``) and, once its
plan resolved, carries it out through the engine's reconcile step
(``services.cluster_execution``), then writes the status and mirrors the batches. It waits for
one of the run's Jobs to change (the namespace's Job view wakes it: ``controller.dependencies``),
a spec edit, a retry's timer, or ``operator.resync_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from datetime import datetime
from typing import Any, Literal

import kopf

from yokeflow.adapters.kube.task_batches import BatchView, release_all
from yokeflow.api.v1alpha1 import ProjectRun, ProjectRunStatus
from yokeflow.controller.dependencies import OperatorDependencies, dependencies_of
from yokeflow.controller.errors import kopf_errors
from yokeflow.controller.executions import (
    RunExecution,
    ensure_network_policy,
    limits_of,
    open_execution,
    planning_jobs,
)
from yokeflow.controller.status_publisher import Offer, StatusPublisher
from yokeflow.core.schedule import Finish
from yokeflow.errors import TemporaryError, YokeflowError
from yokeflow.services import cluster_planning, cluster_run, run_stop
from yokeflow.services.cluster_execution import batch_progress, project_key
from yokeflow.services.planning import plan_accepted
from yokeflow.services.reconcile import Seen, Step, observe
from yokeflow.services.run_rollup import rollup
from yokeflow.specs.conditions import condition, set_condition
from yokeflow.specs.names import label_value

__all__ = ["deleted", "drive", "spec_changed"]

log = logging.getLogger(__name__)
_RUNS = "/apis/yokeflow.io/v1alpha1/namespaces/{namespace}/projectruns/{name}/status"


async def drive(
    *,
    body: kopf.Body,
    memo: Any,
    name: str,
    namespace: str | None,
    uid: str,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """The run's daemon: one pass, then wait for a change; until the run ends or goes."""
    dependencies = dependencies_of(memo)
    namespace = namespace or "default"
    publisher = StatusPublisher(
        functools.partial(_write, dependencies, namespace, name), label=f"{namespace}/{name}"
    )
    try:
        await _drive(dependencies, body, namespace, name, uid, stopped, publisher)
    finally:
        await publisher.close()


async def _drive(
    dependencies: OperatorDependencies,
    body: kopf.Body,
    namespace: str,
    name: str,
    uid: str,
    stopped: kopf.DaemonStopped,
    publisher: StatusPublisher,
) -> None:
    wake = dependencies.waker(namespace, label_value(name))
    while not stopped:
        wake.clear()
        started = time.monotonic()
        try:
            step = await _pass(dependencies, body, namespace, name, uid, publisher)
        except Exception as exc:
            if dependencies.metrics is not None:
                dependencies.metrics.passed(body, {}, time.monotonic() - started, exc)
            raise
        if dependencies.metrics is not None:  # the status this pass found (its write may follow)
            latest = publisher.latest
            found = latest.model_dump(mode="json", exclude_none=True) if latest else {}
            dependencies.metrics.passed(body, found, time.monotonic() - started)
        if step is not None and step.finish is not None:
            # The run's last status is written before the daemon ends (or waits for a budget).
            await publisher.flush()
            if step.finish.outcome != "budget_exhausted":
                return
            # Out of budget the run stays served: raising ``budget.limitUsd`` (a spec edit
            # wakes the daemon) lets it go on.
        elif step is not None and step.again:
            continue
        timeout = dependencies.settings.resync_seconds
        if step is not None and step.wake_at is not None:
            timeout = min(timeout, max(0.0, step.wake_at - dependencies.clock().timestamp()))
        deadline = asyncio.get_running_loop().time() + timeout
        while not stopped and not wake.is_set():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), min(left, 1.0))


async def _pass(
    dependencies: OperatorDependencies,
    live: kopf.Body,
    namespace: str,
    name: str,
    uid: str,
    publisher: StatusPublisher,
) -> Step | None:
    now = dependencies.clock()
    body = dict(live)  # one consistent snapshot for the whole pass
    if publisher.latest is not None:  # newer than the API's copy while its write is under way
        body["status"] = publisher.latest.model_dump(mode="json", exclude_none=True)
    report = await cluster_run.reconcile_body(
        body, functools.partial(dependencies.secret_keys, namespace), now
    )
    status = report.status
    for event in report.events:
        kopf.event(live, type=event.type, reason=event.reason, message=event.message)
    can_plan = dependencies.store is not None and dependencies.mcp is not None
    if report.planning and not can_plan:
        status = _unplannable(status, now, body)
    if not (report.runnable or (report.planning and can_plan)) or dependencies.store is None:
        publisher.offer(Offer(status))
        return None
    try:
        if report.planning:
            planned = await _plan(dependencies, live, body, status, namespace, uid, publisher)
            if isinstance(planned, Step):
                return planned
            status = planned
        return await _execute(dependencies, live, body, status, namespace, uid, publisher)
    except YokeflowError as exc:
        # A pass that cannot go on now (the remote or the database unreachable, a write race):
        # said in the status, tried again at the next wake-up.
        log.warning("%s/%s: %s", namespace, name, exc)
        publisher.offer(Offer(_waiting(status, exc, now, body)))
        return None


async def _plan(
    dependencies: OperatorDependencies,
    live: kopf.Body,
    body: dict[str, Any],
    status: ProjectRunStatus,
    namespace: str,
    uid: str,
    publisher: StatusPublisher,
) -> ProjectRunStatus | Step:
    """A spec-text run's planning pass (``services.cluster_planning``): the status to carry the
    run out with once its plan is accepted, else the step to wait (its status written)."""
    store = dependencies.store
    assert store is not None
    now = dependencies.clock()
    name = str(body["metadata"]["name"])
    generation = body.get("metadata", {}).get("generation")
    known = dependencies.plans.get(uid)
    if known is not None:  # planned already (the status read may predate the one written)
        return _planned(status, known, now, generation)
    run = ProjectRun.model_validate({**body, "status": status})
    project = await cluster_planning.run_project(
        store,
        project_key(namespace, name, uid),
        run.spec.spec.text if run.spec.spec is not None and run.spec.spec.text else "",
    )
    if plan_accepted(project):  # a restarted operator: planned before it went
        dependencies.plans[uid] = await cluster_planning.accepted(store, project)
        return _planned(status, dependencies.plans[uid], now, generation)
    failed = condition(status.conditions, "Planned")
    if status.phase == "Failed" and failed is not None and failed.reason == "PlanningFailed":
        return Step(finish=Finish("failed", failed.message))  # for good: never planned again
    if run.spec.suspend:  # no new planning Job while suspended (a running one ends on its own)
        publisher.offer(Offer(status))
        return Step()
    await ensure_network_policy(dependencies, run, namespace)  # before the first pod of the run
    retries = run.spec.agent.retries
    step = await cluster_planning.advance(
        store,
        project,
        planning_jobs(dependencies, run, namespace),
        max_attempts=retries.max_attempts,
        backoff_seconds=float(retries.backoff_seconds),
        now=now.timestamp(),
    )
    if isinstance(step, cluster_planning.Planned):
        dependencies.plans[uid] = step
        status = _planned(status, step, now, generation)
        said = _condition_message(status, "Planned") or "The plan is accepted."
        kopf.event(live, type="Normal", reason="PlanGenerated", message=said)
        return status
    if isinstance(step, cluster_planning.PlanningFailed):
        message = _one_sentence(f"Planning failed after {step.attempts} attempts: {step.reason}")
        if step.attempts == 1:
            message = _one_sentence(f"Planning failed: {step.reason}")
        earlier = _condition_message(status, "Planned")
        for aspect in ("Planned", "Ready"):
            status = status.model_copy(
                update={
                    "conditions": set_condition(
                        status.conditions,
                        aspect,
                        "False",
                        "PlanningFailed",
                        message,
                        now,
                        generation,
                    )
                }
            )
        status = status.model_copy(update={"phase": "Failed"})
        if earlier != message:
            kopf.event(live, type="Warning", reason="PlanningFailed", message=message)
        publisher.offer(Offer(status))
        return Step(finish=Finish("failed", message))
    reason = "PlanningRetrying" if step.failed_before is not None else "Planning"
    message = _one_sentence(step.message)
    before = condition(status.conditions, "Planned")
    status = status.model_copy(
        update={
            "phase": "Planning",
            "conditions": set_condition(
                status.conditions, "Planned", "Unknown", reason, message, now, generation
            ),
        }
    )
    if before is None or (before.reason, before.message) != (reason, message):
        kind: Literal["Normal", "Warning"] = "Warning" if step.failed_before else "Normal"
        kopf.event(live, type=kind, reason=reason, message=message)
    publisher.offer(Offer(status))
    return Step(wake_at=step.wake_at)


def _planned(
    status: ProjectRunStatus,
    planned: cluster_planning.Planned,
    now: datetime,
    generation: int | None,
) -> ProjectRunStatus:
    attempts = "1 planning attempt" if planned.attempts == 1 else f"{planned.attempts} attempts"
    message = f"{planned.tasks} tasks in {planned.epics} epics, planned in {attempts}."
    conditions = set_condition(
        status.conditions, "Planned", "True", "PlanGenerated", message, now, generation
    )
    return status.model_copy(update={"conditions": conditions})


def _unplannable(status: ProjectRunStatus, now: datetime, body: dict[str, Any]) -> ProjectRunStatus:
    generation = body.get("metadata", {}).get("generation")
    message = (
        "This operator has no database, so it cannot plan a spec text; give the run an inline plan."
    )
    conditions = set_condition(
        status.conditions, "Planned", "Unknown", "PlanningUnavailable", message, now, generation
    )
    return status.model_copy(update={"conditions": conditions})


def _condition_message(status: ProjectRunStatus, kind: str) -> str | None:
    found = condition(status.conditions, kind)
    return found.message if found is not None else None


def _one_sentence(text: str) -> str:
    first = (text.strip().splitlines() or [""])[0][:1000].rstrip(".")
    return f"{first}."


async def _execute(
    dependencies: OperatorDependencies,
    live: kopf.Body,
    body: dict[str, Any],
    status: ProjectRunStatus,
    namespace: str,
    uid: str,
    publisher: StatusPublisher,
) -> Step | None:
    now = dependencies.clock()
    run = ProjectRun.model_validate({**body, "status": status})
    execution = dependencies.executions.get(uid)
    if execution is None:
        await ensure_network_policy(dependencies, run, namespace)
        execution = await open_execution(dependencies, run, namespace)
        dependencies.executions[uid] = execution
    context = execution.execution.context
    context.limits = limits_of(run.spec)
    await execution.limit_budget(run.spec.budget.limit_usd)
    generation = body.get("metadata", {}).get("generation")
    if run.spec.suspend:
        execution.launcher.next_pass()
        seen = await observe(context)
        status = await _rolled(dependencies, execution, status, seen, None, now, generation)
        publisher.offer(Offer(status))
        return None
    execution.launcher.next_pass()
    step = await execution.execution.step()
    if run.spec.budget.action == "cancel":
        stopped = await execution.execution.stop_over_budget()
        if stopped:
            message = (
                f"The budget is spent: stopped {len(stopped)} running Jobs; what they pushed "
                "stays on their branches."
            )
            kopf.event(live, type="Warning", reason="BudgetExhausted", message=message)
    seen = step.seen or await observe(context)
    status = await _rolled(dependencies, execution, status, seen, step, now, generation, live)
    mirror = functools.partial(
        execution.mirror.sync,
        await context.store.list_parallel_batches(context.project_id),
        await _batch_view(execution, seen),
        execution.execution.workspace.integration_commit or "",
    )
    # Written beside the next pass (the API's answers would hold it up): controller/status_publisher.
    publisher.offer(Offer(status, mirror))
    return step


async def _rolled(
    dependencies: OperatorDependencies,
    execution: RunExecution,
    status: ProjectRunStatus,
    seen: Seen,
    step: Step | None,
    now: datetime,
    generation: int | None,
    body: kopf.Body | None = None,
) -> ProjectRunStatus:
    context = execution.execution.context
    cost = await context.store.get_project_cost_total(context.project_id)
    rolled = rollup(
        status,
        seen,
        finish=step.finish if step is not None else None,
        max_attempts=context.limits.max_attempts,
        cost_usd=cost,
        batches=await batch_progress(context.store, context.project_id),
        integration_commit=execution.execution.workspace.integration_commit,
        now=now,
        generation=generation,
        queued=await execution.launcher.queued(),
        budget_limit=execution.budget.ledger.limit,
    )
    if body is not None:
        for notice in rolled.notices:
            kopf.event(body, type=notice.type, reason=notice.reason, message=notice.message)
    result = rolled.status
    if step is None:  # suspended: the rollup's phase and Progressing give way to the pause
        result = result.model_copy(
            update={
                "phase": "Suspended",
                "conditions": set_condition(
                    result.conditions,
                    "Progressing",
                    "False",
                    "Suspended",
                    "The run is suspended; no new Job starts.",
                    now,
                    generation,
                ),
            }
        )
    return result


async def _batch_view(execution: RunExecution, seen: Seen) -> BatchView:
    context = execution.execution.context
    trees = {
        w.task_id: w
        for w in await context.store.list_worktrees(context.project_id)
        if w.task_id is not None
    }
    return BatchView(
        tasks={t.id: t for t in seen.tasks.values()},
        states=seen.states,
        epics=execution.epics,
        worktrees=trees,
        branches=execution.branches,
        max_attempts=context.limits.max_attempts,
        costs=await context.store.get_cost_by_task(context.project_id),
    )


def _waiting(
    status: ProjectRunStatus, error: YokeflowError, now: datetime, body: dict[str, Any]
) -> ProjectRunStatus:
    generation = body.get("metadata", {}).get("generation")
    temporary = isinstance(error, TemporaryError)
    reason = "Waiting" if temporary else "ExecutionFailed"
    text = str(error).strip()
    message = (text.splitlines()[0] if text else reason)[:1000].rstrip(".") + "."
    conditions = set_condition(
        status.conditions,
        "Progressing",
        "Unknown" if temporary else "False",
        reason,
        message,
        now,
        generation,
    )
    return status.model_copy(update={"conditions": conditions})


async def _write(
    dependencies: OperatorDependencies, namespace: str, name: str, status: ProjectRunStatus
) -> None:
    written = status.model_dump(mode="json", exclude_none=True)
    if dependencies.written.get((namespace, name)) == written:
        # The daemon is the status's only writer: nothing changed since its last write. (Each
        # write is also an event every watcher of ProjectRuns processes, kopf's included.)
        return
    await dependencies.api.patch(_RUNS.format(namespace=namespace, name=name), {"status": written})
    dependencies.written[(namespace, name)] = written


async def spec_changed(*, memo: Any, name: str, namespace: str | None, **_: Any) -> None:
    """A spec edit (``suspend``, ``maxConcurrency``…) wakes the run's daemon."""
    dependencies_of(memo).wake(namespace or "default", label_value(name))


async def deleted(
    *, body: kopf.Body, memo: Any, name: str, namespace: str | None, uid: str, **_: Any
) -> None:
    """A deleted run: stop its unfinished Jobs (branches stay on the remote), let its
    TaskBatches go; then kopf removes the finalizer and the run goes."""
    dependencies = dependencies_of(memo)
    namespace = namespace or "default"
    dependencies.executions.pop(uid, None)
    dependencies.written.pop((namespace, name), None)  # a run made again under this name writes
    dependencies.plans.pop(uid, None)
    with kopf_errors():
        stopped = await run_stop.stop_run_jobs(dependencies.jobs(namespace), name)
    if stopped:  # said at once: a retry of this handler finds nothing left to stop
        message = f"Stopped {len(stopped)} unfinished Jobs; every task branch stays on the remote."
        kopf.event(body, type="Normal", reason="Cancelled", message=message)
    with kopf_errors():
        released = await release_all(dependencies.api, namespace, name)
    if released:
        log.info("%s/%s: released %d TaskBatches", namespace, name, released)
