"""Tools that move work forward: take the next task, start it, report its status and tests,
and park it behind a dependency discovered while working on it.

Every change is one store transaction under the task's row lock (claims use ``SKIP LOCKED``), so
any number of agents may call these at once: a task is handed to one of them only, and finishing
the last task of an epic completes the epic exactly once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.fastmcp import Context, FastMCP
from pydantic import Field

from yokeflow.core.records import Task, TaskStatus, TestStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError
from yokeflow_mcp.registration import WRITES, add_tool
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.toolbox import OwnTaskRef, Ref, Toolbox
from yokeflow_mcp.views import verification_view

__all__ = ["ready_tasks", "register"]

Ctx = Context[Any, Any, Any]
StatusName = Literal["pending", "running", "done", "failed", "blocked", "cancelled"]


def ready_tasks(tasks: list[Task], epic_deps: dict[int, tuple[int, ...]]) -> list[Task]:
    """Pending tasks whose hard dependencies and epic dependencies are all done, in claim order.

    Mirrors the store's claim order (priority, then plan position); used to *show* what is
    ready — handing a task out is always the store's atomic claim.
    """
    done = {t.id for t in tasks if t.status == TaskStatus.DONE}
    unfinished_epics = {t.epic_id for t in tasks if t.status != TaskStatus.DONE}
    ready = [
        t
        for t in tasks
        if t.status == TaskStatus.PENDING
        and all(d in done for d in t.hard_dependencies)
        and not any(e in unfinished_epics for e in epic_deps.get(t.epic_id, ()))
    ]
    return sorted(ready, key=lambda t: (t.priority, t.position, t.id))


def register(app: FastMCP[Any], box: Toolbox) -> None:
    """Add the progress tools to ``app``."""

    async def described(scope: Scope, task: Task) -> dict[str, Any]:
        return await box.view(scope, task)

    async def get_next_task(
        ctx: Ctx,
        claim: Annotated[
            bool,
            Field(
                description="True: take the task now — it is started (running) and assigned to "
                "you atomically, so no other agent gets it. False: only look."
            ),
        ] = False,
    ) -> dict[str, Any]:
        """The next task to work on: a pending task whose dependencies are all done, highest
        priority first. With claim=true it is also started for you in the same step (use this
        when several agents share the project). In a session that belongs to one task, this is
        always your own task. Returns task=null with a message when nothing is ready."""
        scope = box.scope(ctx)
        if scope.task_id is not None:
            own = await box.task(scope, scope.task_id)
            if claim and own.status == TaskStatus.PENDING:
                own = (
                    await box.store.update_task_status(
                        own.id, TaskStatus.RUNNING, expected=TaskStatus.PENDING
                    )
                ).task
            return {
                "task": await described(scope, own),
                "claimed": own.status == TaskStatus.RUNNING,
                "message": f"your task is {own.key} ({own.status.value})",
            }
        if claim:
            taken = await box.store.claim_next_task(scope.project_id, worker=scope.worker)
            if taken is not None:
                return {
                    "task": await described(scope, taken),
                    "claimed": True,
                    "message": f"task {taken.key} is now running and yours; finish it with "
                    "update_task_status(status='done')",
                }
        else:
            tasks = await box.store.list_tasks(scope.project_id)
            epics = await box.store.list_epics(scope.project_id)
            ready = ready_tasks(tasks, {e.id: e.depends_on for e in epics})
            if ready:
                return {
                    "task": await described(scope, ready[0]),
                    "claimed": False,
                    "message": f"task {ready[0].key} is ready; start it with start_task",
                }
        counts = await box.store.task_counts(scope.project_id)
        if all(n == 0 for s, n in counts.items() if s != TaskStatus.DONE):
            message = "every task is done; call mark_project_complete"
        else:
            waiting = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n and s != "done")
            message = f"no task is ready now ({waiting}); try again when running tasks finish"
        return {"task": None, "claimed": False, "message": message}

    async def start_task(ctx: Ctx, task: OwnTaskRef = None) -> dict[str, Any]:
        """Start working on a task: pending -> running. Refused when its dependencies are not all
        done or another agent already started it. Starting a task that is already yours (your
        session's task, or one you claimed with get_next_task) is harmless."""
        scope = box.scope(ctx)
        found = await box.own_or_given(scope, task)
        scope.check_task_change(found.id, found.key)
        yours = scope.task_id == found.id or (
            found.claimed_by is not None and found.claimed_by == scope.worker
        )
        if found.status == TaskStatus.RUNNING and yours:
            return {"task": await described(scope, found), "message": "already running"}
        if found.status == TaskStatus.RUNNING:
            raise InvalidTransitionError(
                f"task {found.key} is already running (claimed by {found.claimed_by or 'someone'});"
                " call get_next_task(claim=true) for another task"
            )
        change = await box.store.update_task_status(
            found.id, TaskStatus.RUNNING, expected=TaskStatus.PENDING
        )
        return {"task": await described(scope, change.task), "message": "started"}

    async def update_task_status(
        status: Annotated[
            StatusName,
            Field(
                description="done when the work is finished and committed; failed when you "
                "cannot finish it (say why in error); pending to give it back; blocked to hold it."
            ),
        ],
        ctx: Ctx,
        task: OwnTaskRef = None,
        error: Annotated[
            str | None, Field(description="Why the task failed or is blocked (one or two lines).")
        ] = None,
    ) -> dict[str, Any]:
        """Change a task's status. Allowed: pending->running|blocked|cancelled,
        running->done|failed|pending|cancelled, failed->pending|blocked|cancelled,
        blocked->pending|cancelled, cancelled->pending; done is final. Marking the last task of an
        epic done completes the epic (epic_completed=true)."""
        scope = box.scope(ctx)
        found = await box.own_or_given(scope, task)
        scope.check_task_change(found.id, found.key)
        change = await box.store.update_task_status(found.id, status, error=error)
        return {
            "task": await described(scope, change.task),
            "previous": change.previous.value,
            "epic_completed": change.epic_completed,
        }

    async def update_test_result(
        test_id: Annotated[int, Field(description="The test's id (from get_task or list_tests).")],
        passed: Annotated[bool, Field(description="True if the test passed, False if it failed.")],
        ctx: Ctx,
        result: Annotated[
            str | None, Field(description="What you observed (output, error message).")
        ] = None,
    ) -> dict[str, Any]:
        """Record the result of one of a task's verification tests."""
        scope = box.scope(ctx)
        test = await box.edits.get_test(test_id)
        if test is None or test.project_id != scope.project_id:
            raise NotFoundError(f"unknown test {test_id} in this project")
        owner = await box.task(scope, test.task_id)
        scope.check_task_change(owner.id, owner.key)
        status = TestStatus.PASSED if passed else TestStatus.FAILED
        updated = await box.store.update_test_status(test_id, status, result=result)
        return {"test": verification_view(updated, owner.key)}

    async def declare_dependency(
        depends_on: Annotated[
            Ref, Field(description="The unfinished task you need first (key or id).")
        ],
        reason: Annotated[str, Field(description="Why you need it, in one sentence.")],
        ctx: Ctx,
        task: OwnTaskRef = None,
    ) -> dict[str, Any]:
        """Say that your task cannot be finished before another, unfinished task. Your task gets
        that task as a hard dependency and is parked (put back to pending): it will be started
        again, from the merged result of that task, once that task is done. After a parked=true
        answer, stop working and end your session. Refused, naming the loop, when the dependency
        would create a cycle."""
        scope = box.scope(ctx)
        found = await box.own_or_given(scope, task)
        scope.check_task_change(found.id, found.key)
        needed = await box.task(scope, depends_on)
        parking = await box.edits.declare_dependency(found.id, needed.id, reason=reason)
        if parking.parked:
            message = (
                f"task {found.key} is parked until {needed.key} is done; stop working on it now "
                "and end your session"
            )
        else:
            message = f"{needed.key} is already done; nothing to wait for, carry on"
        return {
            "task": await described(scope, parking.task),
            "parked": parking.parked,
            "previous": parking.previous.value,
            "message": message,
        }

    for fn in (get_next_task, start_task, update_task_status, update_test_result):
        add_tool(app, fn, WRITES)
    add_tool(app, declare_dependency, WRITES)
