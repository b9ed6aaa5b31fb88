"""Diffs of task branches, read with the real ``git`` (the review port's adapter)."""

from __future__ import annotations

from pathlib import Path

from yokeflow.adapters.git.runner import GitRunner
from yokeflow.errors import GitCommandError, NotFoundError

__all__ = ["GitDiffs"]

_MAX_CHARS = 2_000_000
"""A diff longer than this is cut (a browser cannot show more usefully)."""


class GitDiffs:
    """Implements :class:`~yokeflow.ports.review.DiffReader` with ``git diff``."""

    def __init__(self, git: GitRunner | None = None) -> None:
        self._git = git or GitRunner(timeout=60.0)

    async def _diff(self, repo: Path, *spec: str) -> str:
        if not (repo / ".git").exists():
            raise NotFoundError(f"{repo} is not a git repository any more")
        try:
            out = (
                await self._git.run("diff", "--no-color", "--no-ext-diff", *spec, cwd=repo)
            ).stdout
        except GitCommandError as exc:
            raise NotFoundError(f"no diff for {' '.join(spec)} in {repo}: {exc}") from exc
        if len(out) > _MAX_CHARS:
            return out[:_MAX_CHARS] + f"\n… cut at {_MAX_CHARS} characters\n"
        return out

    async def branch_diff(self, repo: Path, base: str, head: str) -> str:
        return await self._diff(repo, f"{base}...{head}", "--")

    async def landed_diff(self, repo: Path, commit: str) -> str:
        parents = (
            await self._git.output("rev-list", "--parents", "-n", "1", commit, cwd=repo)
        ).split()
        if len(parents) >= 3:  # a merge commit: the task's side against the merge base
            return await self._diff(repo, f"{parents[1]}...{parents[2]}", "--")
        return await self._diff(repo, f"{commit}^!", "--")
