"""Merge decisions: what ``git merge-tree`` predicted, what a merge commit says, what recovery does.

Pure: no git, no files. The git adapter runs the commands and hands their output here; what to do
next is decided here, so it can be tested with tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from yokeflow.core.worktree import ConflictFile, WorktreeStatus

__all__ = [
    "JournalAction",
    "MergeMode",
    "MergeResult",
    "MergeStatus",
    "MergeTreeResult",
    "ReconcileAction",
    "Resolution",
    "commit_message",
    "decide_journal",
    "decide_reconciliation",
    "has_conflict_markers",
    "parse_merge_tree",
]


class MergeMode(StrEnum):
    """How a task branch lands on the integration branch."""

    MERGE = "merge"
    """A merge commit with two parents: the task's own commits stay in the history."""
    SQUASH = "squash"
    """One commit with the task's whole change; the task's commits are kept under an archive ref."""


class Resolution(StrEnum):
    """How a recorded conflict is resolved."""

    OURS = "ours"
    """The integration branch's side wins every conflicting hunk (and modify/delete)."""
    THEIRS = "theirs"
    """The task's side wins every conflicting hunk (and modify/delete)."""
    MANUAL = "manual"
    """A person resolved it in the kept task worktree; merge again."""
    AGENT = "agent"
    """An agent session resolves the conflict markers in the integration worktree."""


class MergeStatus(StrEnum):
    """What a merge attempt did."""

    MERGED = "merged"
    """The integration branch moved; the task's work is on it."""
    ALREADY_MERGED = "already_merged"
    """The task's commit was already reachable from the integration branch; nothing moved."""
    CONFLICT = "conflict"
    """Predicted to conflict: the integration branch is untouched, the task branch is kept."""
    VERIFICATION_FAILED = "verification_failed"
    """The merged result failed the verification command: discarded, the task branch is kept."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The outcome of merging one task branch."""

    task_id: int
    branch: str
    status: MergeStatus
    merge_commit: str | None = None
    conflicts: tuple[ConflictFile, ...] = ()
    verification_output: str | None = None


@dataclass(frozen=True, slots=True)
class MergeTreeResult:
    """What ``git merge-tree --write-tree -z`` predicted."""

    tree: str
    """The merged tree (with conflict markers in conflicted files when not clean)."""
    clean: bool
    conflicts: tuple[ConflictFile, ...] = ()
    messages: tuple[str, ...] = field(default=())


_CONFLICT_KIND = re.compile(r"^CONFLICT \(([^)]+)\)")


def _kind(conflict_type: str, message: str) -> str:
    # The human message is more precise than the type ("add/add" vs "contents").
    for text in (message, conflict_type):
        found = _CONFLICT_KIND.match(text)
        if found:
            kind = found.group(1)
            return "content" if kind == "contents" else kind
    return "content"


def parse_merge_tree(output: str, exit_code: int) -> MergeTreeResult:
    """Parse the output of ``git merge-tree --write-tree -z <ours> <theirs>``.

    Exit code 0 is a clean merge, 1 a conflicted one. With conflicts the output is the tree, the
    conflicted stage entries (``mode oid stage\\tpath``), an empty field, then messages as
    ``<n>\\0<path>...\\0<type>\\0<message>\\0``. Raises ``ValueError`` on anything else.
    """
    if exit_code not in (0, 1):
        raise ValueError(f"git merge-tree failed with exit code {exit_code}")
    fields = output.split("\0")
    tree = fields[0].strip()
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", tree):
        raise ValueError(f"git merge-tree printed no tree id: {output[:200]!r}")
    if exit_code == 0:
        return MergeTreeResult(tree=tree, clean=True)
    index = 1
    paths: dict[str, None] = {}
    while index < len(fields) and fields[index] != "":
        entry = fields[index]
        _, _, path = entry.partition("\t")
        paths.setdefault(path or entry, None)
        index += 1
    index += 1  # the empty field between the entries and the messages
    kinds: dict[str, str] = {}
    messages: list[str] = []
    while index < len(fields) and fields[index] != "":
        try:
            count = int(fields[index])
        except ValueError:
            raise ValueError(f"unexpected merge-tree message field {fields[index]!r}") from None
        message_paths = fields[index + 1 : index + 1 + count]
        conflict_type = fields[index + 1 + count]
        message = fields[index + 2 + count].strip()
        index += 3 + count
        messages.append(message)
        if conflict_type.startswith("CONFLICT"):
            for path in message_paths:
                paths.setdefault(path, None)
                # the first conflict message about a path names its kind
                kinds.setdefault(path, _kind(conflict_type, message))
    conflicts = tuple(ConflictFile(path=p, kind=kinds.get(p, "content")) for p in paths)
    return MergeTreeResult(tree=tree, clean=False, conflicts=conflicts, messages=tuple(messages))


def commit_message(
    *,
    task_id: int,
    title: str,
    branch: str,
    task_commit: str,
    mode: MergeMode,
    resolution: Resolution | None = None,
) -> str:
    """The message of the commit that lands a task: names the task, with machine-readable trailers."""
    verb = "Squash" if mode is MergeMode.SQUASH else "Merge"
    subject = " ".join(title.split())[:72] or branch
    body = [f"{verb} task {task_id}: {subject}", ""]
    if resolution is not None:
        body += [f"Conflicts resolved with the {resolution.value!r} strategy.", ""]
    body += [
        f"Yokeflow-Task: {task_id}",
        f"Yokeflow-Branch: {branch}",
        f"Yokeflow-Task-Commit: {task_commit}",
    ]
    return "\n".join(body) + "\n"


_MARKER = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)


def has_conflict_markers(text: str) -> bool:
    """True when ``text`` still holds ``<<<<<<<`` / ``>>>>>>>`` conflict markers at a line start."""
    return bool(_MARKER.search(text))


class JournalAction(StrEnum):
    """What to do with a merge journal entry found at start (a merge was interrupted)."""

    COMPLETE = "complete"
    """The integration branch was moved: verify reachability, delete the branch, record merged."""
    COMPLETE_KEEP_BRANCH = "complete_keep_branch"
    """Moved, but the task branch has newer commits since: record the merge, keep the branch."""
    DISCARD = "discard"
    """The integration branch never moved: forget the attempt; the task branch is still there."""


def decide_journal(*, published: bool, branch_tip: str | None, task_commit: str) -> JournalAction:
    """Decide what an interrupted merge left to do, from what git shows now."""
    if not published:
        return JournalAction.DISCARD
    if branch_tip is not None and branch_tip != task_commit:
        return JournalAction.COMPLETE_KEEP_BRANCH
    return JournalAction.COMPLETE


class ReconcileAction(StrEnum):
    """What to do about one worktree when the ledger and the disk disagree at start."""

    NONE = "none"
    """They agree."""
    ADOPT = "adopt"
    """A worktree on disk with no record: record it."""
    RECREATE = "recreate"
    """A live record whose worktree is gone but whose branch is kept: add the worktree again."""
    MARK_REMOVED = "mark_removed"
    """A live record with neither worktree nor branch: record that it is gone."""
    FINISH_MERGED = "finish_merged"
    """A merged record whose task branch is still there: delete it once verified reachable."""
    REVIVE = "revive"
    """A record marked removed whose worktree is on disk: it is active again."""


_LIVE = frozenset({WorktreeStatus.ACTIVE, WorktreeStatus.CONFLICT, WorktreeStatus.FAILED})


def decide_reconciliation(
    status: WorktreeStatus | None, *, on_disk: bool, branch_exists: bool
) -> ReconcileAction:
    """Decide how to bring one worktree's record and its state on disk back into agreement."""
    if status is None:
        return ReconcileAction.ADOPT if on_disk else ReconcileAction.NONE
    if status is WorktreeStatus.MERGED:
        # a merged worktree may stay on disk until cleaned up; a leftover branch is unfinished
        return ReconcileAction.FINISH_MERGED if branch_exists else ReconcileAction.NONE
    if status is WorktreeStatus.REMOVED:
        return ReconcileAction.REVIVE if on_disk else ReconcileAction.NONE
    assert status in _LIVE
    if on_disk:
        return ReconcileAction.NONE
    return ReconcileAction.RECREATE if branch_exists else ReconcileAction.MARK_REMOVED
