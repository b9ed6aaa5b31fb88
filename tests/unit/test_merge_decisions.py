"""Merge decisions: parsing ``git merge-tree -z`` output, commit messages, recovery tables."""

from __future__ import annotations

import pytest

from yokeflow.core.merging import (
    JournalAction,
    MergeMode,
    ReconcileAction,
    Resolution,
    commit_message,
    decide_journal,
    decide_reconciliation,
    has_conflict_markers,
    parse_merge_tree,
)
from yokeflow.core.worktree import ConflictFile, WorktreeStatus

TREE = "d4dc07a7c32837511d373c6cf22d9e0fa5b41776"
# recorded from git 2.39: `git merge-tree --write-tree -z main t1` with three kinds of conflict
CONFLICTED = (
    f"{TREE}\0"
    "100644 4bcfe98e640c8284511312660fb8709b0afa888e 1\tdel\0"
    "100644 975fbec8256d3e8a3797e7a3611380f27c49f4ac 3\tdel\0"
    "100644 de980441c3ab03a8c07dda1ad27b8a11f39deb1e 1\tf\0"
    "100644 3b6f40af131104cca3a84e7a760c3c3475377106 2\tf\0"
    "100644 f4ea702d479ef1388dde60e3430791a9c6eb8d4f 3\tf\0"
    "100644 8dc5e9eda0508c10f2b7908a0116dfad764cf128 2\tn\0"
    "100644 c72eb69c00c3995fb5f27a7751a734c1ae7f62ca 3\tn\0"
    "\0"
    "1\0del\0CONFLICT (modify/delete)\0CONFLICT (modify/delete): del deleted in main and "
    "modified in t1.  Version t1 of del left in tree.\n\0"
    "1\0f\0Auto-merging\0Auto-merging f\n\0"
    "1\0f\0CONFLICT (contents)\0CONFLICT (content): Merge conflict in f\n\0"
    "1\0n\0Auto-merging\0Auto-merging n\n\0"
    "1\0n\0CONFLICT (contents)\0CONFLICT (add/add): Merge conflict in n\n\0"
)


def test_parse_conflicts_with_their_kinds() -> None:
    result = parse_merge_tree(CONFLICTED, 1)
    assert not result.clean
    assert result.tree == TREE
    assert result.conflicts == (
        ConflictFile("del", "modify/delete"),
        ConflictFile("f", "content"),
        ConflictFile("n", "add/add"),
    )
    assert "Auto-merging f" in result.messages


def test_parse_clean_merge() -> None:
    result = parse_merge_tree(f"{TREE}\0", 0)
    assert result.clean
    assert result.conflicts == ()


def test_paths_with_spaces_and_tabs_survive() -> None:
    text = (
        f"{TREE}\x00100644 {TREE} 2\tdir/with space.txt\0\0"
        "1\0dir/with space.txt\0CONFLICT (contents)\0CONFLICT (content): x\n\0"
    )
    assert parse_merge_tree(text, 1).conflicts == (ConflictFile("dir/with space.txt", "content"),)


def test_rename_conflicts_name_every_path() -> None:
    text = (
        f"{TREE}\x00100644 {TREE} 1\ta\x00100644 {TREE} 2\tb\x00100644 {TREE} 3\tc\0\0"
        "3\0a\0b\0c\0CONFLICT (rename/rename)\0CONFLICT (rename/rename): a renamed to b and c\n\0"
    )
    kinds = {c.path: c.kind for c in parse_merge_tree(text, 1).conflicts}
    assert kinds == {"a": "rename/rename", "b": "rename/rename", "c": "rename/rename"}


@pytest.mark.parametrize(("output", "code"), [("", 0), ("fatal: no\0", 1), (f"{TREE}\0", 128)])
def test_unexpected_output_is_an_error(output: str, code: int) -> None:
    with pytest.raises(ValueError, match="merge-tree"):
        parse_merge_tree(output, code)


def test_commit_message_names_the_task_with_trailers() -> None:
    text = commit_message(
        task_id=12,
        title="  Add   the login page ",
        branch="yokeflow/task/12-login",
        task_commit="abc",
        mode=MergeMode.SQUASH,
        resolution=Resolution.THEIRS,
    )
    lines = text.splitlines()
    assert lines[0] == "Squash task 12: Add the login page"
    assert "Yokeflow-Task: 12" in lines
    assert "Yokeflow-Task-Commit: abc" in lines
    assert "'theirs' strategy" in text


def test_conflict_markers() -> None:
    assert has_conflict_markers("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> t\n")
    assert not has_conflict_markers("a = '<<<<<<<'\nprint('>>>>>>> not at start')\n")


@pytest.mark.parametrize(
    ("published", "branch_tip", "expected"),
    [
        (False, "t", JournalAction.DISCARD),
        (False, None, JournalAction.DISCARD),
        (True, "t", JournalAction.COMPLETE),
        (True, None, JournalAction.COMPLETE),
        (True, "newer", JournalAction.COMPLETE_KEEP_BRANCH),
    ],
)
def test_journal_decisions(
    published: bool, branch_tip: str | None, expected: JournalAction
) -> None:
    assert decide_journal(published=published, branch_tip=branch_tip, task_commit="t") is expected


A, C, F, M, R = (
    WorktreeStatus.ACTIVE,
    WorktreeStatus.CONFLICT,
    WorktreeStatus.FAILED,
    WorktreeStatus.MERGED,
    WorktreeStatus.REMOVED,
)


@pytest.mark.parametrize(
    ("status", "on_disk", "branch", "expected"),
    [
        (None, True, True, ReconcileAction.ADOPT),
        (None, False, True, ReconcileAction.NONE),
        (A, True, True, ReconcileAction.NONE),
        (A, False, True, ReconcileAction.RECREATE),
        (C, False, True, ReconcileAction.RECREATE),
        (F, False, True, ReconcileAction.RECREATE),
        (A, False, False, ReconcileAction.MARK_REMOVED),
        (M, True, False, ReconcileAction.NONE),
        (M, False, True, ReconcileAction.FINISH_MERGED),
        (R, True, True, ReconcileAction.REVIVE),
        (R, False, True, ReconcileAction.NONE),
    ],
)
def test_reconciliation_table(
    status: WorktreeStatus | None, on_disk: bool, branch: bool, expected: ReconcileAction
) -> None:
    assert decide_reconciliation(status, on_disk=on_disk, branch_exists=branch) is expected
