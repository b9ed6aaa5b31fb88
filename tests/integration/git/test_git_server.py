"""The test git server is a real remote: clones come from it and pushed branches appear on it."""

from __future__ import annotations

from pathlib import Path

from yokeflow.testing.git_repos import commit_file, git, make_repository
from yokeflow.testing.gitserver import serving_git


def test_a_pushed_branch_appears_on_the_git_server(tmp_path: Path) -> None:
    with serving_git(tmp_path / "served") as server:
        url = server.publish(make_repository(tmp_path / "source"), "project")
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", url, str(clone))
        git(clone, "config", "user.email", "agent@example.com")
        git(clone, "config", "user.name", "Agent")
        pushed = commit_file(clone, "feature.txt", "new work\n")

        git(clone, "push", "-q", "origin", "HEAD:refs/heads/task/feature")

        branches = server.branches("project")
        assert branches["task/feature"] == pushed
        assert git(server.bare_path("project"), "show", "task/feature:feature.txt") == "new work"
        again = tmp_path / "again"
        git(tmp_path, "clone", "-q", "--branch", "task/feature", url, str(again))
        assert (again / "feature.txt").read_text() == "new work\n"


def test_the_git_server_stops_with_its_block(tmp_path: Path) -> None:
    with serving_git(tmp_path / "served") as server:
        url = server.publish(make_repository(tmp_path / "source"), "project")
    result = git(tmp_path, "ls-remote", url, check=False)
    assert result == ""
