"""The WorktreeManager: one git worktree per task, and the merge queue that lands their work.

It implements the :class:`~yokeflow.ports.Workspace` port with the real ``git`` CLI. State is
kept in the ledger (the ``worktrees`` table) and in small files under ``.git/yokeflow/``; at
start both are compared with what is on disk, and every disagreement is repaired.

The user's own checkout is never switched or modified: task worktrees live under
``worktree_dir`` (git-ignored through ``.git/info/exclude``, not the user's ``.gitignore``),
merges happen in a detached integration worktree, and the integration branch is a dedicated
branch (``yokeflow/integration`` by default) that must not be checked out by the user.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from yokeflow.adapters.git.checkouts import Checkouts
from yokeflow.adapters.git.locks import RepositoryLock
from yokeflow.adapters.git.merge_queue import INTEGRATION_FOLDER, MergeQueue, StepHook
from yokeflow.adapters.git.options import WorkspaceOptions
from yokeflow.adapters.git.provisioning import copy_local_files, free_port, run_setup
from yokeflow.adapters.git.repository import GitWorktree, Repository
from yokeflow.adapters.git.runner import GitRunner
from yokeflow.adapters.git.state_files import StateFiles, TaskNote
from yokeflow.core.merging import (
    MergeResult,
    ReconcileAction,
    Resolution,
    decide_reconciliation,
)
from yokeflow.core.naming import sanitize_branch_name, sanitize_path_component
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.errors import PermanentError, WorktreeConflictError
from yokeflow.ports.workspace import (
    ConflictResolver,
    TaskRef,
    Workspace,
    WorktreeInfo,
    WorktreeLedger,
)

__all__ = ["RecoveryReport", "WorktreeManager"]


@dataclass(slots=True)
class RecoveryReport:
    """What :meth:`WorktreeManager.initialize` found and repaired."""

    interrupted_merges: list[int] = field(default_factory=list)
    """Task ids whose merge was interrupted (and has now been finished or discarded)."""
    reconciled: list[tuple[str, ReconcileAction]] = field(default_factory=list)
    """``(path, action)`` for every worktree whose record and disk disagreed."""


class WorktreeManager:
    """Task worktrees and their merging for one project's repository."""

    def __init__(
        self,
        repository: Path,
        ledger: WorktreeLedger,
        *,
        project_id: int,
        options: WorkspaceOptions | None = None,
        resolver: ConflictResolver | None = None,
        on_step: StepHook | None = None,
        git: GitRunner | None = None,
    ) -> None:
        self.options = options or WorkspaceOptions()
        self.ledger = ledger
        self.project_id = project_id
        self.repo = Repository(
            repository, git or GitRunner(timeout=self.options.git_timeout_seconds)
        )
        self._resolver = resolver
        self._on_step = on_step
        self._task_locks: dict[int, asyncio.Lock] = {}
        self._queue: MergeQueue | None = None
        self._checkouts: Checkouts | None = None
        self._state: StateFiles | None = None
        self.recovery = RecoveryReport()

    # -- start-up ------------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Prepare the repository and repair what a crash left; safe to call on every start."""
        await self.repo.open()
        state = StateFiles(self.repo.common_dir)
        lock = RepositoryLock(state.worktree_lock, timeout=self.options.lock_timeout_seconds)
        checkouts = Checkouts(self.repo, lock)
        queue = MergeQueue(
            self.repo,
            checkouts,
            state,
            self.ledger,
            self.project_id,
            self.options,
            resolver=self._resolver,
            on_step=self._on_step,
        )
        self._state, self._checkouts, self._queue = state, checkouts, queue
        async with lock.hold():
            self._exclude_worktree_dir()
        self.recovery = RecoveryReport()
        found = await queue.prepare()
        self.recovery.interrupted_merges = [entry.task_id for entry in found]
        await checkouts.prune()
        await self._reconcile()

    def _exclude_worktree_dir(self) -> None:
        exclude = self.repo.common_dir / "info" / "exclude"
        line = f"/{self.options.worktree_dir.strip('/')}/"
        text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if line not in text.splitlines():
            exclude.parent.mkdir(parents=True, exist_ok=True)
            prefix = "" if not text or text.endswith("\n") else "\n"
            exclude.write_text(f"{text}{prefix}{line}\n", encoding="utf-8")

    def _parts(self) -> tuple[MergeQueue, Checkouts, StateFiles]:
        if self._queue is None or self._checkouts is None or self._state is None:
            raise PermanentError("WorktreeManager.initialize() has not been called")
        return self._queue, self._checkouts, self._state

    @property
    def worktree_root(self) -> Path:
        return self.repo.root / self.options.worktree_dir

    @property
    def integration_path(self) -> Path:
        return self.worktree_root / INTEGRATION_FOLDER

    async def _trees(self) -> dict[Path, GitWorktree]:
        return {_key(t.path): t for t in await self.repo.worktrees()}

    async def _reconcile(self) -> None:
        queue, checkouts, state = self._parts()
        trees = await self._trees()
        notes = {n.task_id: n for n in state.notes()}
        integration = await queue.integration_tip()
        seen: set[Path] = {self.integration_path.resolve()}
        for record in await self.ledger.list_worktrees(self.project_id):
            path = _key(record.path)
            seen.add(path)
            tree = trees.get(path)
            on_disk = _present(tree, path)
            tip = await self.repo.branch_tip(record.branch)
            action = decide_reconciliation(
                record.status, on_disk=on_disk, branch_exists=tip is not None
            )
            if action is ReconcileAction.NONE:
                continue
            self.recovery.reconciled.append((str(path), action))
            if action is ReconcileAction.RECREATE:
                await checkouts.add(path, branch=record.branch, start=None)
            elif action is ReconcileAction.MARK_REMOVED:
                await self.ledger.update_worktree_status(record.id, WorktreeStatus.REMOVED)
            elif action is ReconcileAction.FINISH_MERGED:
                assert tip is not None
                if await self.repo.is_ancestor(tip, integration):
                    await self._delete_branch(record.branch, tip, trees)
            elif action is ReconcileAction.REVIVE:
                await self.ledger.create_worktree(
                    self.project_id,
                    task_id=record.task_id,
                    epic_id=record.epic_id,
                    branch=record.branch,
                    path=record.path,
                    base_commit=record.base_commit,
                )
        for path, tree in trees.items():
            if path in seen or path.parent != _key(self.worktree_root) or tree.prunable:
                continue
            note = next((n for n in notes.values() if _key(n.path) == path), None)
            branch = tree.branch or (note.branch if note else None)
            if branch is None:
                continue  # a detached worktree nobody knows: not ours to record
            self.recovery.reconciled.append((str(path), ReconcileAction.ADOPT))
            record = await self.ledger.create_worktree(
                self.project_id,
                task_id=note.task_id if note else None,
                epic_id=note.epic_id if note else None,
                branch=branch,
                path=str(path),
                base_commit=None,
            )
            if (
                tree.branch is None
                and tree.head
                and await self.repo.is_ancestor(tree.head, integration)
            ):
                await self.ledger.mark_worktree_merged(record.id, integration)

    async def _delete_branch(
        self, branch: str, tip: str, trees: dict[Path, GitWorktree] | None = None
    ) -> bool:
        """Delete ``branch`` if it still points at ``tip`` and no foreign checkout holds it."""
        for tree in (trees or await self._trees()).values():
            if tree.branch != branch:
                continue
            if _key(tree.path).parent != _key(self.worktree_root):
                return False
            await self.repo.git.run("checkout", "-q", "--detach", cwd=tree.path)
        await self.repo.git.run("update-ref", "-d", f"refs/heads/{branch}", tip, cwd=self.repo.root)
        return True

    # -- naming --------------------------------------------------------------------------------

    def branch_for(self, task: TaskRef) -> str:
        """The task's branch: readable, valid everywhere, distinct per task id."""
        return sanitize_branch_name(
            f"{task.task_id}-{task.title}", prefix=self.options.branch_prefix
        )

    def path_for(self, task: TaskRef) -> Path:
        """The task's folder under the worktree directory (short: Windows paths are limited)."""
        name = sanitize_path_component(
            f"task-{task.task_id}-{task.title}", max_length=self.options.folder_length
        )
        return self.worktree_root / name

    # -- the Workspace port --------------------------------------------------------------------

    async def create_worktree(self, task: TaskRef) -> WorktreeInfo:
        """A worktree for ``task``: reused when valid, else added on its kept branch or a new one."""
        queue, checkouts, state = self._parts()
        lock = self._task_locks.setdefault(task.task_id, asyncio.Lock())
        async with lock:
            note = state.note(task.task_id)
            branch = note.branch if note else self.branch_for(task)
            path = Path(note.path) if note else self.path_for(task)
            tree = (await self._trees()).get(_key(path))
            reused = tree is not None and tree.branch == branch and _present(tree, path)
            base: str | None = None
            if reused:
                await checkouts.complete(path)  # a checkout cut short by a crash
            else:
                base = await queue.integration_tip()
                kept = await self.repo.branch_tip(branch)
                await checkouts.add(path, branch=branch, start=None if kept else base)
            if note is None:
                taken = {n.port for n in state.notes()}
                note = TaskNote(
                    task_id=task.task_id,
                    epic_id=task.epic_id,
                    title=task.title,
                    description=task.description,
                    branch=branch,
                    path=str(path),
                    port=free_port(taken),
                )
                state.save_note(note)
            record = await self.ledger.get_worktree_by_task(self.project_id, task.task_id)
            if (
                record is None
                or record.branch != branch
                or record.status
                in (
                    WorktreeStatus.REMOVED,
                    WorktreeStatus.MERGED,
                )
            ):
                if base is None:
                    base = record.base_commit if record else await queue.integration_tip()
                await self.ledger.create_worktree(
                    self.project_id,
                    task_id=task.task_id,
                    epic_id=task.epic_id,
                    branch=branch,
                    path=str(path),
                    base_commit=base,
                )
            if not reused:
                copy_local_files(self.repo.root, path, self.options.setup.copy_files)
                await run_setup(
                    self.options.setup,
                    path=path,
                    task_id=task.task_id,
                    branch=branch,
                    port=note.port,
                )
        info = await self.get_worktree_status(task.task_id)
        assert info is not None
        return info

    async def merge_worktree(self, task_id: int) -> MergeResult:
        queue, _, _ = self._parts()
        return await queue.merge(self._note(task_id))

    async def resolve_conflict(self, task_id: int, strategy: Resolution) -> MergeResult:
        queue, _, _ = self._parts()
        return await queue.resolve(self._note(task_id), Resolution(strategy))

    async def cleanup_worktree(self, task_id: int) -> None:
        """Remove the task's working tree; its branch goes only when its tip is merged."""
        queue, checkouts, _ = self._parts()
        note = self._note(task_id)
        path = Path(note.path)
        tree = (await self._trees()).get(_key(path))
        if tree is not None and _present(tree, path):
            if tree.branch is None and await self.repo.has_uncommitted_changes(path):
                # detached (after a merge) yet edited since: keep the edits on a branch of their own
                rescue = f"{note.branch}-leftover"
                await self.repo.git.run("checkout", "-q", "-b", rescue, cwd=path)
                await queue.commit_pending(replace(note, branch=rescue))
            else:
                await queue.commit_pending(note)
            await checkouts.remove(path)
        else:
            await checkouts.prune()
        tip = await self.repo.branch_tip(note.branch)
        if tip is not None and await self.repo.is_ancestor(tip, await queue.integration_tip()):
            await self._delete_branch(note.branch, tip)
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        if record is not None and record.status is not WorktreeStatus.MERGED:
            await self.ledger.update_worktree_status(
                record.id, WorktreeStatus.REMOVED, conflicts=record.conflicts
            )

    async def get_worktree_status(self, task_id: int) -> WorktreeInfo | None:
        _, _, state = self._parts()
        note = state.note(task_id)
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        if note is None and record is None:
            return None
        return await self._info(note, record, await self._trees())

    async def list_worktrees(self) -> list[WorktreeInfo]:
        _, _, state = self._parts()
        trees = await self._trees()
        records = {
            r.task_id: r
            for r in await self.ledger.list_worktrees(self.project_id)
            if r.task_id is not None
        }
        notes = {n.task_id: n for n in state.notes()}
        return [
            await self._info(notes.get(task_id), records.get(task_id), trees)
            for task_id in sorted({*records, *notes})
        ]

    async def sync_worktree_from_main(self, task_id: int) -> str:
        """Merge the integration branch into the task's branch (in its worktree); the new tip."""
        queue, _, _ = self._parts()
        note = self._note(task_id)
        path = Path(note.path)
        if await self.repo.current_branch(path) != note.branch:
            raise PermanentError(f"{path} is not on {note.branch}: create the worktree first")
        await queue.commit_pending(note)
        tip = await self.repo.branch_tip(note.branch)
        integration = await queue.integration_tip()
        assert tip is not None
        if await self.repo.is_ancestor(integration, tip):
            return tip
        predicted = await queue.predict(tip, integration)
        if not predicted.clean:
            raise WorktreeConflictError(
                note.branch,
                [(c.path, c.kind) for c in predicted.conflicts],
                f"syncing with {self.options.integration_branch}; the worktree was left as it was",
            )
        message = f"Sync task {task_id} with {self.options.integration_branch}"
        await self.repo.git.run(
            "merge", "-q", "--no-edit", "--no-verify", "-m", message, integration, cwd=path
        )
        new = await self.repo.branch_tip(note.branch)
        assert new is not None
        return new

    async def get_conflict_details(self, task_id: int) -> tuple[ConflictFile, ...]:
        """The recorded conflicts of a task, or a fresh prediction if none are recorded."""
        queue, _, _ = self._parts()
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        if record is not None and record.status is WorktreeStatus.CONFLICT:
            return record.conflicts
        tip = await self.repo.branch_tip(self._note(task_id).branch)
        if tip is None:
            return ()
        return (await queue.predict(await queue.integration_tip(), tip)).conflicts

    # -- helpers -------------------------------------------------------------------------------

    def _note(self, task_id: int) -> TaskNote:
        _, _, state = self._parts()
        note = state.note(task_id)
        if note is None:
            raise PermanentError(f"task {task_id} has no worktree (create_worktree first)")
        return note

    async def _info(
        self,
        note: TaskNote | None,
        record: WorktreeRecord | None,
        trees: dict[Path, GitWorktree],
    ) -> WorktreeInfo:
        queue, _, _ = self._parts()
        assert note is not None or record is not None
        branch = note.branch if note else record.branch if record else ""
        path = Path(note.path if note else record.path if record else "")
        task_id = note.task_id if note else (record.task_id if record else None)
        tree = trees.get(_key(path))
        exists = _present(tree, path)
        head = await self.repo.branch_tip(branch) if branch else None
        ahead = 0
        if head is not None:
            ahead = await self.repo.count_commits(f"{await queue.integration_tip()}..{head}")
        return WorktreeInfo(
            task_id=task_id or 0,
            epic_id=note.epic_id if note else record.epic_id if record else None,
            title=note.title if note else "",
            branch=branch,
            path=str(path),
            status=record.status if record else WorktreeStatus.REMOVED,
            exists=exists,
            base_commit=record.base_commit if record else None,
            head_commit=head,
            dirty=exists and await self.repo.has_uncommitted_changes(path),
            commits_ahead=ahead,
            port=note.port if note else None,
            merge_commit=record.merge_commit if record else None,
            conflicts=record.conflicts if record else (),
        )


def _key(path: str | Path) -> Path:
    """A path as git prints it in ``worktree list`` (absolute, symlinks resolved)."""
    return Path(path).resolve()


def _present(tree: GitWorktree | None, path: Path) -> bool:
    """The worktree is registered, not prunable, and its folder holds its ``.git`` file."""
    return tree is not None and not tree.prunable and (path / ".git").exists()


def _implements_the_port(manager: WorktreeManager) -> Workspace:
    return manager  # mypy checks here that WorktreeManager satisfies the Workspace protocol
