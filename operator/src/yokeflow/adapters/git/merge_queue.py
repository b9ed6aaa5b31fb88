"""The merge queue: finished task branches land on the integration branch one at a time.

How one merge goes, and why it never loses a commit:

1. Uncommitted work in the task's worktree is committed to its branch (the agent may forget).
2. ``git merge-tree --write-tree`` predicts the merge without touching any working tree. On a
   predicted conflict nothing moves: the conflicts are recorded, the branch is kept.
3. The merged tree becomes a commit (``commit-tree``: two parents, or one for squash).
4. With a verification command, the commit is checked out in the dedicated integration worktree
   (detached, never the user's checkout) and verified; a failure discards it and keeps the output.
5. A journal entry is written; for squash, the task's commit is kept under
   ``refs/yokeflow/squashed/<branch>``; then the integration branch moves with
   ``git update-ref <ref> <new> <old>`` — a compare-and-swap: if anything else moved it, we start
   again from its new tip.
6. Only when the task's commit is verified reachable (or archived, for squash) is the task branch
   deleted, again with a compare-and-swap on its old value.

A kill at any point leaves either the branch untouched (before 5) or the journal naming what to
finish (after); :meth:`MergeQueue.prepare` repairs both at the next start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from yokeflow.adapters.git.checkouts import Checkouts
from yokeflow.adapters.git.locks import RepositoryLock
from yokeflow.adapters.git.options import WorkspaceOptions
from yokeflow.adapters.git.repository import Repository
from yokeflow.adapters.git.runner import run_shell
from yokeflow.adapters.git.state_files import JournalEntry, StateFiles, TaskNote
from yokeflow.core.merging import (
    JournalAction,
    MergeMode,
    MergeResult,
    MergeStatus,
    MergeTreeResult,
    Resolution,
    commit_message,
    decide_journal,
    has_conflict_markers,
    parse_merge_tree,
)
from yokeflow.core.worktree import ConflictFile, WorktreeStatus
from yokeflow.errors import ConfigError, GitCommandError, PermanentError, WorktreeConflictError
from yokeflow.ports.workspace import (
    ConflictResolutionRequest,
    ConflictResolver,
    TaskRef,
    WorktreeLedger,
)

__all__ = ["INTEGRATION_FOLDER", "MergeQueue", "StepHook"]

StepHook = Callable[[str], Awaitable[None]]
"""Called at each named step of a merge (tests use it to kill the process at a chosen point)."""

INTEGRATION_FOLDER = "_integration"
_ZERO = "0" * 40
_CAS_ATTEMPTS = 5


class MergeQueue:
    """Merges task branches into the integration branch, serialized across processes."""

    def __init__(
        self,
        repo: Repository,
        checkouts: Checkouts,
        state: StateFiles,
        ledger: WorktreeLedger,
        project_id: int,
        options: WorkspaceOptions,
        *,
        resolver: ConflictResolver | None = None,
        on_step: StepHook | None = None,
    ) -> None:
        self.repo = repo
        self.checkouts = checkouts
        self.state = state
        self.ledger = ledger
        self.project_id = project_id
        self.options = options
        self.resolver = resolver
        self.on_step = on_step
        self.lock = RepositoryLock(state.merge_lock, timeout=options.lock_timeout_seconds)
        self.integration_ref = f"refs/heads/{options.integration_branch}"

    @property
    def path(self) -> Path:
        """The integration worktree: detached HEAD, used only for verification and resolution."""
        return self.repo.root / self.options.worktree_dir / INTEGRATION_FOLDER

    async def _step(self, name: str) -> None:
        if self.on_step is not None:
            await self.on_step(name)

    async def integration_tip(self) -> str:
        tip = await self.repo.rev_parse(self.integration_ref)
        if tip is None:
            raise ConfigError(
                f"the integration branch {self.options.integration_branch} is missing"
            )
        return tip

    # -- start-up ------------------------------------------------------------------------------

    async def prepare(self) -> list[JournalEntry]:
        """Create the integration branch and worktree, repair them, finish interrupted merges.

        Returns the journal entries that were found (interrupted merges), after handling them.
        """
        async with self.lock.hold():
            if await self.repo.rev_parse(self.integration_ref) is None:
                base = self.options.base_branch or await self.repo.main_branch()
                start = await self.repo.branch_tip(base)
                if start is None:
                    raise ConfigError(f"the base branch {base} has no commits")
                await self.repo.git.run(
                    "update-ref", self.integration_ref, start, _ZERO, cwd=self.repo.root
                )
            await self.refuse_if_checked_out()
            await self._repair_worktree()
            found = self.state.journal()
            for entry in found:
                await self._recover(entry)
            return found

    async def refuse_if_checked_out(self) -> None:
        """Moving a branch under someone's checkout would make it look undone there: refuse."""
        for tree in await self.repo.worktrees():
            if tree.branch == self.options.integration_branch:
                raise ConfigError(
                    f"the integration branch {tree.branch} is checked out at {tree.path}; "
                    "YokeFlow moves that branch as tasks merge and would leave that checkout "
                    "looking as if every merged change were undone: check out another branch "
                    "there first."
                )

    async def _repair_worktree(self) -> None:
        tip = await self.integration_tip()
        registered = {t.path.resolve(): t for t in await self.repo.worktrees()}
        entry = registered.get(self.path.resolve())
        if entry is None or entry.prunable or not (self.path / ".git").exists():
            await self.checkouts.add_detached(self.path, tip)
            return
        git_dir = Path(await self.repo.git.output("rev-parse", "--absolute-git-dir", cwd=self.path))
        # We hold the merge lock and nothing else works here: any index.lock is a dead one's.
        (git_dir / "index.lock").unlink(missing_ok=True)
        await self._checkout(tip)

    async def _checkout(self, commit: str) -> None:
        """Point the integration worktree (detached) at ``commit``, with no local changes left."""
        git = self.repo.git
        await git.run("reset", "-q", "--hard", cwd=self.path)  # also ends a merge in progress
        await git.run("checkout", "-q", "-f", "--detach", commit, cwd=self.path)
        await git.run("clean", "-q", "-f", "-d", cwd=self.path)

    async def _recover(self, entry: JournalEntry) -> None:
        tip = await self.integration_tip()
        published = await self.repo.is_ancestor(entry.new, tip)
        branch_tip = await self.repo.branch_tip(entry.branch)
        action = decide_journal(
            published=published, branch_tip=branch_tip, task_commit=entry.task_commit
        )
        record = await self.ledger.get_worktree_by_task(self.project_id, entry.task_id)
        if action is JournalAction.COMPLETE:
            await self._finish(entry, record.id if record else None)
            return
        if action is JournalAction.COMPLETE_KEEP_BRANCH and record is not None:
            await self.ledger.update_worktree_status(
                record.id, WorktreeStatus.ACTIVE, merge_commit=entry.new
            )
        if (
            action is JournalAction.DISCARD
            and entry.archive_ref
            and branch_tip == entry.task_commit
            and await self.repo.rev_parse(entry.archive_ref) == entry.task_commit
        ):
            # the branch still holds the commit; the archive ref was only for after the merge
            await self.repo.git.run(
                "update-ref", "-d", entry.archive_ref, entry.task_commit, cwd=self.repo.root
            )
        self.state.clear_journal(entry.task_id)

    # -- merging -------------------------------------------------------------------------------

    async def merge(self, task: TaskNote) -> MergeResult:
        """Land ``task``'s branch; a predicted conflict is recorded and returned, never applied."""
        async with self.lock.hold():
            return await self._merge(task)

    async def resolve(self, task: TaskNote, strategy: Resolution) -> MergeResult:
        """Merge a conflicting task with ``strategy`` deciding the conflicting parts."""
        async with self.lock.hold():
            if strategy is Resolution.MANUAL:
                return await self._merge(task)
            if strategy is Resolution.AGENT and self.resolver is None:
                raise ConfigError("no agent conflict resolver is configured")
            return await self._merge(task, resolution=strategy)

    async def _record(self, task: TaskNote) -> int:
        record = await self.ledger.get_worktree_by_task(self.project_id, task.task_id)
        if record is None:
            raise PermanentError(f"task {task.task_id} has no worktree record")
        return record.id

    async def _merge(self, task: TaskNote, resolution: Resolution | None = None) -> MergeResult:
        record_id = await self._record(task)
        record = await self.ledger.get_worktree(record_id)
        if record is not None and record.status is WorktreeStatus.MERGED:
            return MergeResult(
                task.task_id, task.branch, MergeStatus.ALREADY_MERGED, record.merge_commit
            )
        await self.commit_pending(task)
        await self._step("committed")
        for _ in range(_CAS_ATTEMPTS):
            old = await self.integration_tip()
            tip = await self.repo.branch_tip(task.branch)
            if tip is None:
                raise PermanentError(f"the branch {task.branch} of task {task.task_id} is gone")
            if await self.repo.is_ancestor(tip, old):
                entry = self._entry(task, tip, old, old)
                await self._finish(entry, record_id)
                return MergeResult(task.task_id, task.branch, MergeStatus.ALREADY_MERGED, old)
            predicted = await self.predict(old, tip)
            await self._step("predicted")
            if predicted.clean:
                new = await self._commit_tree(predicted.tree, old, tip, task, None)
            elif resolution is None:
                await self.ledger.update_worktree_status(
                    record_id, WorktreeStatus.CONFLICT, conflicts=predicted.conflicts
                )
                return MergeResult(
                    task.task_id, task.branch, MergeStatus.CONFLICT, conflicts=predicted.conflicts
                )
            else:
                new = await self._resolve_in_worktree(task, old, tip, predicted, resolution)
            result = await self._land(task, record_id, old, tip, new)
            if result is not None:
                return result
        raise GitCommandError(
            ("update-ref", self.integration_ref), 1, "the integration branch kept moving"
        )

    async def predict(self, ours: str, theirs: str) -> MergeTreeResult:
        """What merging ``theirs`` into ``ours`` gives, without touching any working tree."""
        result = await self.repo.git.run(
            "merge-tree", "--write-tree", "-z", ours, theirs, cwd=self.repo.root, ok_codes=(0, 1)
        )
        return parse_merge_tree(result.stdout, result.exit_code)

    def _entry(self, task: TaskNote, tip: str, old: str, new: str) -> JournalEntry:
        squash = self.options.merge_mode is MergeMode.SQUASH and old != new
        return JournalEntry(
            task_id=task.task_id,
            branch=task.branch,
            task_commit=tip,
            old=old,
            new=new,
            mode=self.options.merge_mode.value,
            archive_ref=f"refs/yokeflow/squashed/{task.branch}" if squash else None,
        )

    async def _commit_tree(
        self, tree: str, old: str, tip: str, task: TaskNote, resolution: Resolution | None
    ) -> str:
        mode = self.options.merge_mode
        parents = ["-p", old] if mode is MergeMode.SQUASH else ["-p", old, "-p", tip]
        message = commit_message(
            task_id=task.task_id,
            title=task.title,
            branch=task.branch,
            task_commit=tip,
            mode=mode,
            resolution=resolution,
        )
        result = await self.repo.git.run(
            "commit-tree", tree, *parents, "-F", "-", cwd=self.repo.root, stdin=message
        )
        return result.stdout.strip()

    async def _land(
        self, task: TaskNote, record_id: int, old: str, tip: str, new: str
    ) -> MergeResult | None:
        """Verify, then publish ``new`` over ``old``; None when the branch moved meanwhile."""
        if self.options.verify_command:
            await self._checkout(new)
            await self._step("verifying")
            verified = await run_shell(
                self.options.verify_command,
                cwd=self.path,
                time_limit=self.options.verify_timeout_seconds,
                env={"YOKEFLOW_TASK_ID": str(task.task_id), "YOKEFLOW_BRANCH": task.branch},
            )
            if not verified.ok:
                await self._checkout(old)
                self.state.save_verify_log(task.task_id, verified.output)
                await self.ledger.update_worktree_status(record_id, WorktreeStatus.FAILED)
                return MergeResult(
                    task.task_id,
                    task.branch,
                    MergeStatus.VERIFICATION_FAILED,
                    verification_output=verified.output,
                )
        await self.refuse_if_checked_out()
        entry = self._entry(task, tip, old, new)
        self.state.write_journal(entry)
        await self._step("journaled")
        git = self.repo.git
        if entry.archive_ref:
            await git.run("update-ref", entry.archive_ref, tip, cwd=self.repo.root)
        try:
            await git.run("update-ref", self.integration_ref, new, old, cwd=self.repo.root)
        except GitCommandError:
            if await self.integration_tip() == old:
                raise
            await self._recover(entry)  # lost the compare-and-swap: discard, try again
            return None
        await self._step("published")
        await self._finish(entry, record_id)
        return MergeResult(task.task_id, task.branch, MergeStatus.MERGED, new)

    async def _finish(self, entry: JournalEntry, record_id: int | None) -> None:
        """After the branch moved: check reachability, delete the task branch, record the merge."""
        tip = await self.integration_tip()
        git = self.repo.git
        if entry.archive_ref:
            archived = await self.repo.rev_parse(entry.archive_ref)
            safe = archived == entry.task_commit and await self.repo.is_ancestor(entry.new, tip)
        else:
            safe = await self.repo.is_ancestor(entry.task_commit, tip)
        if not safe:
            raise PermanentError(
                f"task {entry.task_id}: {entry.task_commit[:12]} is not reachable from "
                f"{self.options.integration_branch}; keeping {entry.branch}"
            )
        branch_tip = await self.repo.branch_tip(entry.branch)
        if branch_tip == entry.task_commit:
            deletable = True
            for tree in await self.repo.worktrees():
                if tree.branch != entry.branch:
                    continue
                if tree.path.resolve().parent == self.path.parent.resolve():
                    # our task worktree: keep its files, let go of the branch
                    await git.run("checkout", "-q", "--detach", cwd=tree.path)
                else:
                    deletable = False  # someone else has it checked out: leave it be
            await self._step("detached")
            if deletable:
                await git.run(
                    "update-ref",
                    "-d",
                    f"refs/heads/{entry.branch}",
                    entry.task_commit,
                    cwd=self.repo.root,
                )
            await self._step("branch-deleted")
        if record_id is not None and branch_tip in (None, entry.task_commit):
            await self.ledger.mark_worktree_merged(record_id, entry.new)
        elif record_id is not None:
            # the branch got newer commits since: they are not merged, the record stays live
            await self.ledger.update_worktree_status(
                record_id, WorktreeStatus.ACTIVE, merge_commit=entry.new
            )
        await self._step("recorded")
        self.state.clear_journal(entry.task_id)

    # -- the task's worktree -------------------------------------------------------------------

    async def commit_pending(self, task: TaskNote) -> bool:
        """Commit uncommitted work in the task's worktree to its branch; True if a commit was made."""
        path = Path(task.path)
        git = self.repo.git
        if not (path / ".git").exists() or await self.repo.current_branch(path) != task.branch:
            return False
        await self.checkouts.complete(path)  # never commit a half checkout as deletions
        unmerged = await self.repo.unmerged_paths(path)
        if unmerged:
            raise WorktreeConflictError(
                task.branch,
                [(p, "content") for p in unmerged],
                f"unresolved merge in {path}: resolve the files, then resolve again",
            )
        if not await self.repo.has_uncommitted_changes(path):
            return False
        excluded = [f":(exclude){p}" for p in self.options.setup.copy_files]
        await git.run("add", "-A", "--", ".", *excluded, cwd=path)
        staged = await git.run("diff", "--cached", "--quiet", cwd=path, ok_codes=(0, 1))
        in_merge = await self.repo.rev_parse("MERGE_HEAD", cwd=path)
        if staged.exit_code == 0 and in_merge is None:
            return False
        message = f"Uncommitted work of task {task.task_id}: {task.title}"[:200]
        await git.run("commit", "-q", "--no-verify", "-m", message, cwd=path)
        return True

    # -- resolution ----------------------------------------------------------------------------

    async def _resolve_in_worktree(
        self,
        task: TaskNote,
        old: str,
        tip: str,
        predicted: MergeTreeResult,
        resolution: Resolution,
    ) -> str:
        """Merge in the integration worktree, resolve by ``resolution``, return the merged commit."""
        git = self.repo.git
        await self._checkout(old)
        option = {Resolution.OURS: ["-X", "ours"], Resolution.THEIRS: ["-X", "theirs"]}
        await git.run(
            "merge",
            "--no-commit",
            "--no-ff",
            *option.get(resolution, []),
            tip,
            cwd=self.path,
            ok_codes=(0, 1),
        )
        await self._step("merging")
        if resolution is Resolution.AGENT:
            await self._ask_agent(task, old, tip, predicted.conflicts)
        else:
            side = 2 if resolution is Resolution.OURS else 3
            for path in await self.repo.unmerged_paths(self.path):
                await self._take_side(path, side)
        await git.run("add", "-A", cwd=self.path)
        left = await self.repo.unmerged_paths(self.path)
        marked = [c.path for c in predicted.conflicts if self._has_markers(c.path)]
        if left or marked:
            await self._checkout(old)
            raise WorktreeConflictError(
                task.branch,
                [(p, "content") for p in sorted({*left, *marked})],
                f"the {resolution.value} resolution left conflicts",
            )
        tree = await git.output("write-tree", cwd=self.path)
        new = await self._commit_tree(tree, old, tip, task, resolution)
        await self._checkout(new)
        return new

    async def _take_side(self, path: str, stage: int) -> None:
        git = self.repo.git
        stages = await git.output("ls-files", "-u", "-z", "--", path, cwd=self.path)
        present = {int(entry.split()[2]) for entry in stages.split("\0") if entry.strip()}
        if stage in present:
            side = "--ours" if stage == 2 else "--theirs"
            await git.run("checkout", side, "--", path, cwd=self.path)
            await git.run("add", "--", path, cwd=self.path)
        else:  # that side deleted it
            await git.run("rm", "-q", "-f", "--", path, cwd=self.path)

    def _has_markers(self, relative: str) -> bool:
        file = self.path / relative
        if not file.is_file():
            return False
        return has_conflict_markers(file.read_text(encoding="utf-8", errors="replace"))

    async def _ask_agent(
        self, task: TaskNote, old: str, tip: str, conflicts: tuple[ConflictFile, ...]
    ) -> None:
        assert self.resolver is not None
        base = await self.repo.git.output("merge-base", old, tip, cwd=self.repo.root)
        request = ConflictResolutionRequest(
            task=TaskRef(task.task_id, task.title, task.epic_id, task.description),
            worktree=str(self.path),
            integration_branch=self.options.integration_branch,
            task_branch=task.branch,
            conflicts=conflicts,
            task_log=await self.repo.log_lines(f"{base}..{tip}"),
            integration_log=await self.repo.log_lines(f"{base}..{old}"),
        )
        await self.resolver(request)
