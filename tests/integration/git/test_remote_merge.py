"""``yokeflow runner merge`` (what a merge Job runs) on real git with a real bare remote: task
branches are fetched and merged with the merge queue, the integration branch is pushed (again
after the remote moved), a conflict leaves everything untouched, and running it twice merges
nothing twice — with merge commits and with squashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from yokeflow.adapters.git.remote_merge import RemoteMerge
from yokeflow.cli.runner_cmd import FAILED_MERGE_EXIT
from yokeflow.core.merging import MergeMode
from yokeflow.testing.git_repos import commit_file, git, make_repository

pytestmark = pytest.mark.timeout(120)

IDENTITY = {
    "GIT_AUTHOR_NAME": "YokeFlow agent",
    "GIT_AUTHOR_EMAIL": "agent@yokeflow.io",
    "GIT_COMMITTER_NAME": "YokeFlow agent",
    "GIT_COMMITTER_EMAIL": "agent@yokeflow.io",
}


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare remote: ``main`` with a README, ``task/a`` (a new file, clean), ``task/b`` (the
    README changed one way) and ``task/c`` (the README changed another way: conflicts after b)."""
    work = make_repository(tmp_path / "work", {"README.md": "hello\n"})
    for branch, name, text in (
        ("task/a", "a.txt", "work of a\n"),
        ("task/b", "README.md", "hello from b\n"),
        ("task/c", "README.md", "hello from c\n"),
    ):
        git(work, "checkout", "-q", "-b", branch, "main")
        commit_file(work, name, text, f"{branch} work")
    git(work, "checkout", "-q", "main")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def _clone(remote: Path, into: Path, commit: str = "main") -> Path:
    """The merge Job's clone step: the integration branch checked out at ``commit``."""
    git(into.parent, "clone", "-q", "--no-checkout", str(remote), str(into))
    git(into, "checkout", "-q", "-B", "main", commit)
    return into


def _merge(repo: Path, *tasks: str, strategy: str = "merge") -> tuple[int, dict[str, Any]]:
    args = ["--repository", str(repo), "--integration-branch", "main", "--strategy", strategy]
    for task in tasks:
        args += ["--task", task]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "yokeflow"), "runner", "merge", *args],
        env={**os.environ, **IDENTITY},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert len(done.stdout.encode()) <= 4096
    return done.returncode, json.loads(done.stdout)


def _merge_here(repo: Path, *tasks: str, strategy: str = "merge") -> dict[str, Any]:
    """The same in this process (no command start-up): the report only."""
    pairs = [(t.split("=")[0], t.split("=")[1]) for t in tasks]
    merge = RemoteMerge(repo, integration_branch="main", mode=MergeMode(strategy))
    return anyio.run(merge.run, pairs).to_dict()


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {t["task"]: t["status"] for t in report["tasks"]}


def test_branches_merge_in_order_a_conflict_is_kept_and_a_rerun_merges_nothing(
    remote: Path, tmp_path: Path
) -> None:
    start = git(remote, "rev-parse", "main")
    branches = {b: git(remote, "rev-parse", b) for b in ("task/a", "task/b", "task/c")}

    code, report = _merge(_clone(remote, tmp_path / "one"), "a=task/a", "b=task/b", "c=task/c")

    assert code == 0, report
    assert report["success"] is True
    assert report["pushed"] is True
    assert _statuses(report) == {"a": "merged", "b": "merged", "c": "conflict"}
    assert report["merged"] == ["a", "b"]
    assert report["conflicts"] == [{"key": "c", "files": ["README.md"]}]
    pushed = git(remote, "rev-parse", "main")
    assert pushed == report["integration_commit"]
    assert report["base_commit"] == start
    assert git(remote, "show", "main:a.txt") == "work of a"
    assert git(remote, "show", "main:README.md") == "hello from b"
    for branch in ("task/a", "task/b"):
        assert (
            git(remote, "merge-base", "--is-ancestor", branches[branch], "main", check=False) == ""
        )
    # Task branches on the remote are never moved or deleted (the conflicted one is its work).
    assert {b: git(remote, "rev-parse", b) for b in branches} == branches

    # The same Job again (an operator restart), from a clone at the old integration commit.
    code, again = _merge(
        _clone(remote, tmp_path / "two", start), "a=task/a", "b=task/b", "c=task/c"
    )

    assert code == 0, again
    assert _statuses(again) == {"a": "already_merged", "b": "already_merged", "c": "conflict"}
    assert git(remote, "rev-parse", "main") == pushed  # not one new commit
    assert again["integration_commit"] == pushed


def test_squashed_tasks_are_found_again_and_not_squashed_twice(
    remote: Path, tmp_path: Path
) -> None:
    report = _merge_here(_clone(remote, tmp_path / "one"), "a=task/a", strategy="squash")
    assert report["success"] is True, report
    squashed = git(remote, "rev-parse", "main")
    assert git(remote, "rev-list", "--count", "main") == "2"  # one commit, one parent

    again = _merge_here(_clone(remote, tmp_path / "two"), "a=task/a", strategy="squash")

    assert again["success"] is True, again
    assert _statuses(again) == {"a": "already_merged"}
    assert again["tasks"][0]["commit"] == squashed
    assert git(remote, "rev-parse", "main") == squashed


def test_a_remote_that_moved_meanwhile_is_fetched_and_merged_onto(
    remote: Path, tmp_path: Path
) -> None:
    repo = _clone(remote, tmp_path / "one")
    # Someone pushes to main just before the runner's first push (a pre-push hook does it).
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    git(other, "config", "user.email", "d@example.com")
    git(other, "config", "user.name", "D")
    commit_file(other, "elsewhere.txt", "merged elsewhere\n")
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nif [ ! -e {tmp_path}/moved ]; then touch {tmp_path}/moved; "
        f"git -C {other} push -q origin main; fi\nexit 0\n"
    )
    hook.chmod(0o755)

    report = _merge_here(repo, "a=task/a")

    assert report["success"] is True, report
    assert report["attempts"] == 2
    assert git(remote, "show", "main:elsewhere.txt") == "merged elsewhere"
    assert git(remote, "show", "main:a.txt") == "work of a"


def test_a_missing_branch_is_reported_and_the_rest_still_lands(
    remote: Path, tmp_path: Path
) -> None:
    code, report = _merge(_clone(remote, tmp_path / "one"), "gone=task/gone", "a=task/a")

    assert code == FAILED_MERGE_EXIT
    assert report["pushed"] is True
    assert _statuses(report) == {"gone": "missing", "a": "merged"}
    assert report["merged"] == ["a"]
    assert "task/gone" in report["error"]
    assert git(remote, "show", "main:a.txt") == "work of a"


def test_a_merge_that_cannot_start_still_reports_why(tmp_path: Path) -> None:
    not_a_repo = tmp_path / "empty"
    not_a_repo.mkdir()

    code, report = _merge(not_a_repo, "a=task/a")

    assert code == 2
    assert report["pushed"] is False
    assert report["merged"] == []
    assert "not a git work tree" in report["error"]
