"""The cluster's merge lane: finished task branches land on the integration branch by merge Jobs.

It is the operator's :class:`~yokeflow.services.reconcile.MergeLane`. Submitted tasks wait in a
queue; while fewer than ``max_in_flight`` merge Jobs of the run are running,
:meth:`JobMergeLane.pump` starts one for every task waiting (in submission order) from the
current integration commit — so a finished task's merge starts at once instead of waiting for
the merge before it, and tasks that finish together share one Job. Merge Jobs running side by
side race only at the push, which is never forced: the one that finds the integration branch
moved fetches, merges again on the new tip and pushes again (``adapters/git/remote_merge.py``).
After a merge Job ends, the integration commit new tasks start from is read from the remote
again, so it holds every merge pushed so far, whichever Job pushed it.

Like the task launcher, it reads Jobs, not memory:

- a merge Job carries its tasks in an annotation, so a restarted operator sees what is in
  flight; its name comes from a sequence number kept in the store (``merge_jobs`` in the
  project's metadata) and saved *before* the Job is created, so no name is ever used twice;
- an ended Job is collected once (then annotated), its outcome recorded in the store first (a
  crash in between records it again — marking a worktree merged is idempotent);
- the outcome is the runner's JSON report in the termination message (``yokeflow runner
  merge``: each task merged with its commit, conflicted with its files, or why not);
- a Job whose report is missing (lost, cut, never written) is an unknown outcome, whatever its
  state: the merge runner exits 0 also when some tasks conflicted, so a succeeded Job does not
  say which tasks it merged. Its tasks are merged again by the next Job — the runner is
  idempotent, a branch already in the integration history counts as merged without a new
  commit, so the next report tells. A failed Job (or one whose report says it could not push)
  merged nothing and is treated the same way. After :data:`MERGE_TRIES` Jobs that ended
  without a report or a push, a task is kept on its branch, failed with the last Job's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yokeflow.core.merging import MergeResult, MergeStatus
from yokeflow.core.schedule import TaskState
from yokeflow.core.termination import read_report
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.ports.jobs import JobGateway, JobSight
from yokeflow.ports.store import Store
from yokeflow.services.cluster_workspace import ClusterWorkspace
from yokeflow.services.reconcile import MergeLanded

__all__ = ["MERGE_SEQUENCE", "MERGE_TASKS_ANNOTATION", "JobMergeLane", "MergeJobBuilder"]

MERGE_TASKS_ANNOTATION = "yokeflow.io/merge-tasks"
"""The tasks of a merge Job: JSON ``[[key, task id, branch], …]`` in merge order."""
COLLECTED_ANNOTATION = "yokeflow.io/collected"
MERGE_TRIES = 3
"""Merge Jobs that may end without pushing a task before it is kept on its branch, failed."""
MERGE_SEQUENCE = "merge_jobs"
"""The project metadata key counting the run's merge Jobs (names are derived from it)."""

MergeJobBuilder = Callable[[int, Sequence[tuple[str, str]], str], dict[str, Any]]
"""``(sequence number, [(task key, branch)…], integration commit)`` → the merge Job manifest."""


@dataclass(frozen=True, slots=True)
class _Queued:
    key: str
    task_id: int
    branch: str


class JobMergeLane:
    """Merge Jobs of one run, found by ``selector`` (see the module docstring)."""

    def __init__(
        self,
        *,
        jobs: JobGateway,
        store: Store,
        workspace: ClusterWorkspace,
        project_id: int,
        selector: str,
        build: MergeJobBuilder,
        branches: Mapping[int, str],
        max_in_flight: int = 1,
    ) -> None:
        self._jobs = jobs
        self._max_in_flight = max(1, max_in_flight)
        self._store = store
        self._workspace = workspace
        self._project_id = project_id
        self._selector = selector
        self._build = build
        self._branches = branches
        self._queue: list[_Queued] = []
        self._running: dict[str, str] = {}
        """Task key → the merge Job merging it now."""
        self._landed: list[MergeLanded] = []
        self._tries: dict[str, int] = {}
        """Task key → merge Jobs that ended without pushing it (this process's count)."""
        self._pumping = asyncio.Lock()
        self.submitted = asyncio.Event()
        """Set by :meth:`submit`: a pass may start their merge Job before its other work."""

    # -- the MergeLane port --------------------------------------------------------------------

    def submit(self, key: str, task_id: int) -> None:
        if key in self._running or any(q.key == key for q in self._queue):
            return
        self._queue.append(_Queued(key, task_id, self._branches[task_id]))
        self.submitted.set()

    def in_flight(self) -> Mapping[str, TaskState]:
        flight = dict.fromkeys(self._running, TaskState.MERGING)
        flight.update((q.key, TaskState.MERGING) for q in self._queue)
        return flight

    def collect(self) -> Sequence[MergeLanded]:
        landed, self._landed = self._landed, []
        return landed

    # -- driving it ----------------------------------------------------------------------------

    async def pump(self) -> bool:
        """Collect ended merge Jobs, then start one for the queued tasks if fewer than
        ``max_in_flight`` run; True when a merge ended (the integration commit moved). One pump
        at a time."""
        async with self._pumping:
            return await self._pump()

    async def _pump(self) -> bool:
        self.submitted.clear()
        ended = False
        running: dict[str, str] = {}
        for seen in await self._jobs.observe(self._selector):
            tasks = _tasks_of(seen)
            if tasks is None or COLLECTED_ANNOTATION in seen.annotations:
                continue
            if seen.state in ("succeeded", "failed"):
                await self._settle(seen, tasks)
                await self._jobs.annotate(seen.name, {COLLECTED_ANNOTATION: "true"})
                ended = True
            else:
                running.update((key, seen.name) for key, _, _ in tasks)
        self._running = running
        queued: dict[str, _Queued] = {}
        for q in self._queue:
            if q.key not in running:
                queued.setdefault(q.key, q)
        self._queue = list(queued.values())
        if ended:
            await self._workspace.refresh()
        if self._queue and len(set(running.values())) < self._max_in_flight:
            await self._start()
        return ended

    async def _start(self) -> None:
        head = self._workspace.integration_commit or await self._workspace.refresh()
        project = await self._store.get_project(self._project_id)
        number = 1 + int((project.metadata if project is not None else {}).get(MERGE_SEQUENCE, 0))
        # Saved before the Job exists: a crash in between skips a number, never reuses one.
        await self._store.update_project_metadata(self._project_id, {MERGE_SEQUENCE: number})
        queued = list(self._queue)
        manifest = self._build(number, [(q.key, q.branch) for q in queued], head)
        annotations = manifest.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[MERGE_TASKS_ANNOTATION] = json.dumps(
            [[q.key, q.task_id, q.branch] for q in queued]
        )
        await self._jobs.create(manifest)
        # Off the queue once their Job exists (a pass cancelled before keeps them queued).
        self._queue = self._queue[len(queued) :]
        name = str(manifest["metadata"].get("name", ""))
        self._running.update((q.key, name) for q in queued)

    async def _settle(self, seen: JobSight, tasks: Sequence[tuple[str, int, str]]) -> None:
        report = read_report(seen.termination_message)
        if report is None or report.get("pushed") is False:
            # Unknown (no report) or nothing reached the remote: merged again by a new Job, which
            # reports a task already merged as such, a few times.
            if report is None and seen.state == "succeeded":
                reason = "succeeded without a merge report"
            else:
                reason = f"failed: {seen.reason or 'Failed'}"
                if seen.exit_code is not None:
                    reason += f" (exit code {seen.exit_code})"
            if report is not None and report.get("error"):
                reason += f": {report['error']}"
            for key, task_id, branch in tasks:
                self._tries[key] = self._tries.get(key, 0) + 1
                if self._tries[key] < MERGE_TRIES:
                    self._queue.append(_Queued(key, task_id, branch))
                else:
                    given_up = f"merge Job {seen.name} {reason}"
                    self._landed.append(await self._failed(None, key, task_id, given_up))
            return
        merged = _merged_commits(report)
        conflicts = _conflicts(report)
        errors = _errors(report)
        pushed = str(report.get("integration_commit") or "") or None
        error = str(report.get("error") or "") or None
        if pushed is not None:
            self._workspace.landed(pushed)
        records = {
            w.task_id: w
            for w in await self._store.list_worktrees(self._project_id)
            if w.task_id is not None
        }

        async def record(key: str, task_id: int, branch: str) -> MergeLanded:
            tree = records.get(task_id)
            if key in merged:
                return await self._merged(tree, key, task_id, branch, merged[key] or pushed)
            if key in conflicts:
                return await self._conflicted(tree, key, task_id, branch, conflicts[key])
            why = errors.get(key) or error or "the merge Job did not merge it"
            return await self._failed(tree, key, task_id, f"merge Job {seen.name}: {why}")

        # One Job may have merged many tasks: their records are written side by side.
        self._landed.extend(await asyncio.gather(*(record(*task) for task in tasks)))

    async def _merged(
        self, record: WorktreeRecord | None, key: str, task_id: int, branch: str, commit: str | None
    ) -> MergeLanded:
        landed = commit or self._workspace.integration_commit or ""
        if record is not None:
            await self._store.mark_worktree_merged(record.id, landed)
        return MergeLanded(key, task_id, MergeResult(task_id, branch, MergeStatus.MERGED, landed))

    async def _conflicted(
        self,
        record: WorktreeRecord | None,
        key: str,
        task_id: int,
        branch: str,
        files: tuple[ConflictFile, ...],
    ) -> MergeLanded:
        paths = ", ".join(f.path for f in files) or "unknown files"
        with contextlib.suppress(Exception):
            await self._store.note_task_error(task_id, f"merge conflict in {paths}")
        if record is not None:
            await self._store.update_worktree_status(
                record.id, WorktreeStatus.CONFLICT, conflicts=files
            )
        result = MergeResult(task_id, branch, MergeStatus.CONFLICT, conflicts=files)
        return MergeLanded(key, task_id, result)

    async def _failed(
        self, record: WorktreeRecord | None, key: str, task_id: int, error: str
    ) -> MergeLanded:
        # The branch is kept on the remote; the task is reported, never merged in a loop.
        with contextlib.suppress(Exception):
            await self._store.note_task_error(task_id, error)
        if record is None:
            record = await self._store.get_worktree_by_task(self._project_id, task_id)
        if record is not None:
            await self._store.update_worktree_status(record.id, WorktreeStatus.CONFLICT)
        return MergeLanded(key, task_id, None, error)


def _tasks_of(seen: JobSight) -> list[tuple[str, int, str]] | None:
    raw = seen.annotations.get(MERGE_TASKS_ANNOTATION)
    if raw is None:
        return None
    try:
        return [(str(k), int(i), str(b)) for k, i, b in json.loads(raw)]
    except (ValueError, TypeError):
        return None


def _entries(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The report's per-task entries (``{"task", "status", "commit", "conflicts", "error"}``);
    a report cut to fit the termination message may have lost them."""
    return [e for e in report.get("tasks") or () if isinstance(e, Mapping) and e.get("task")]


def _merged_commits(report: Mapping[str, Any]) -> dict[str, str | None]:
    """Merged task key → the commit that holds it (None when the report names none)."""
    merged: dict[str, str | None] = {
        str(key): None for key in report.get("merged") or () if isinstance(key, str)
    }
    for entry in _entries(report):
        if entry.get("status") in ("merged", "already_merged"):
            merged[str(entry["task"])] = str(entry.get("commit") or "") or None
    return merged


def _conflicts(report: Mapping[str, Any]) -> dict[str, tuple[ConflictFile, ...]]:
    found: dict[str, tuple[ConflictFile, ...]] = {
        str(key): () for key in report.get("conflicted") or () if isinstance(key, str)
    }
    for entry in _entries(report):
        if entry.get("status") == "conflict":
            files = tuple(ConflictFile(str(f), "content") for f in entry.get("conflicts") or ())
            found[str(entry["task"])] = files
    for conflict in report.get("conflicts") or ():  # {"key", "files"}: the runner's summary
        if isinstance(conflict, Mapping) and conflict.get("key"):
            files = tuple(ConflictFile(str(f), "content") for f in conflict.get("files") or ())
            found[str(conflict["key"])] = files or found.get(str(conflict["key"]), ())
    return found


def _errors(report: Mapping[str, Any]) -> dict[str, str]:
    """Why a task was not merged (a missing branch, a failed merge), from its entry."""
    return {
        str(e["task"]): f"{e.get('status')}: {e.get('error')}"
        if e.get("error")
        else str(e["status"])
        for e in _entries(report)
        if e.get("status") not in ("merged", "already_merged", "conflict")
    }
