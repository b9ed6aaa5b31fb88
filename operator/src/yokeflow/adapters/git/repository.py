"""One git repository seen through the git CLI: refs, worktrees, status, commits.

Small questions asked of git (what is the main branch, is this commit reachable, is that
worktree dirty) in one place, so the worktree manager and the merge queue read as what they do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from yokeflow.adapters.git.runner import GitRunner
from yokeflow.errors import ConfigError, GitCommandError

__all__ = ["GitWorktree", "Repository", "is_worktree_race", "parse_worktree_list"]

_RACE_MARKERS = ("commondir", "gitdir", ".lock': File exists", "Unable to create")


def is_worktree_race(error: GitCommandError) -> bool:
    """True for the transient errors of concurrent worktree bookkeeping (worth a retry).

    ``git worktree add`` writes ``worktrees/<n>/`` file by file; a concurrent reader (``worktree
    list``, ``prune``, another ``add``) can find it half written: ``failed to read
    worktrees/<n>/commondir``.
    """
    return any(marker in error.stderr for marker in _RACE_MARKERS)


FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "YokeFlow",
    "GIT_AUTHOR_EMAIL": "yokeflow@localhost",
    "GIT_COMMITTER_NAME": "YokeFlow",
    "GIT_COMMITTER_EMAIL": "yokeflow@localhost",
}


@dataclass(frozen=True, slots=True)
class GitWorktree:
    """One entry of ``git worktree list --porcelain``."""

    path: Path
    head: str | None
    branch: str | None
    """The short branch name, None when detached (or bare)."""
    prunable: bool = False
    locked: bool = False


def parse_worktree_list(text: str) -> list[GitWorktree]:
    """Parse ``git worktree list --porcelain`` (blank-line separated stanzas)."""
    found: list[GitWorktree] = []
    for stanza in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        if "worktree" not in fields:
            continue
        branch = fields.get("branch")
        found.append(
            GitWorktree(
                path=Path(fields["worktree"]),
                head=fields.get("HEAD"),
                branch=branch.removeprefix("refs/heads/") if branch else None,
                prunable="prunable" in fields,
                locked="locked" in fields,
            )
        )
    return found


class Repository:
    """A repository (any of its worktrees) and the runner that asks git about it."""

    def __init__(self, root: Path, git: GitRunner) -> None:
        self.root = root
        self.git = git
        self.common_dir = root / ".git"

    async def open(self) -> None:
        """Find the top level and the common git dir; use a fallback commit identity if none is set."""
        try:
            top = await self.git.output("rev-parse", "--show-toplevel", cwd=self.root)
            common = await self.git.output("rev-parse", "--git-common-dir", cwd=self.root)
        except GitCommandError as exc:
            raise ConfigError(f"{self.root} is not a git work tree: {exc.stderr.strip()}") from exc
        self.root = Path(top)
        path = Path(common)
        self.common_dir = (path if path.is_absolute() else self.root / path).resolve()
        named = await self.git.run("config", "user.email", cwd=self.root, ok_codes=(0, 1))
        if not named.stdout.strip():
            self.git = self.git.with_env(FALLBACK_IDENTITY)

    async def rev_parse(self, ref: str, *, cwd: Path | None = None) -> str | None:
        """The commit ``ref`` names, or None."""
        result = await self.git.run(
            "rev-parse",
            "-q",
            "--verify",
            f"{ref}^{{commit}}",
            cwd=cwd or self.root,
            ok_codes=(0, 1),
        )
        return result.stdout.strip() or None

    async def branch_tip(self, branch: str) -> str | None:
        return await self.rev_parse(f"refs/heads/{branch}")

    async def is_ancestor(self, commit: str, of: str) -> bool:
        """True when ``commit`` is reachable from ``of``."""
        result = await self.git.run(
            "merge-base", "--is-ancestor", commit, of, cwd=self.root, ok_codes=(0, 1)
        )
        return result.exit_code == 0

    async def count_commits(self, revision_range: str) -> int:
        return int(await self.git.output("rev-list", "--count", revision_range, cwd=self.root))

    async def current_branch(self, cwd: Path | None = None) -> str | None:
        """The branch checked out in ``cwd`` (default: the repository's own checkout), None if detached."""
        result = await self.git.run(
            "symbolic-ref", "-q", "--short", "HEAD", cwd=cwd or self.root, ok_codes=(0, 1)
        )
        return result.stdout.strip() or None

    async def main_branch(self) -> str:
        """The branch work starts from: origin's HEAD, else main/master/trunk, else the current one."""
        remote = await self.git.run(
            "symbolic-ref",
            "-q",
            "--short",
            "refs/remotes/origin/HEAD",
            cwd=self.root,
            ok_codes=(0, 1),
        )
        name = remote.stdout.strip().removeprefix("origin/")
        if name and await self.branch_tip(name):
            return name
        for candidate in ("main", "master", "trunk"):
            if await self.branch_tip(candidate):
                return candidate
        current = await self.current_branch()
        if current is None:
            raise ConfigError(f"{self.root}: cannot tell the main branch (detached HEAD, no main)")
        return current

    async def has_uncommitted_changes(self, cwd: Path) -> bool:
        """Modified, staged or untracked (not ignored) files in the worktree at ``cwd``."""
        out = await self.git.run("status", "--porcelain", "-uall", cwd=cwd)
        return bool(out.stdout.strip())

    async def unmerged_paths(self, cwd: Path) -> list[str]:
        out = await self.git.run("diff", "--name-only", "--diff-filter=U", "-z", cwd=cwd)
        return [p for p in out.stdout.split("\0") if p]

    async def worktrees(self) -> list[GitWorktree]:
        """The registered worktrees (read without the lock, so a half-written entry is retried)."""
        for attempt in range(5):
            try:
                out = await self.git.run("worktree", "list", "--porcelain", cwd=self.root)
                return parse_worktree_list(out.stdout)
            except GitCommandError as exc:
                if attempt == 4 or not is_worktree_race(exc):
                    raise
                await asyncio.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    async def log_lines(self, revision_range: str, limit: int = 50) -> str:
        """``--oneline`` subjects of ``revision_range`` (newest first)."""
        return await self.git.output(
            "log", "--no-decorate", "--format=%h %s", f"-n{limit}", revision_range, cwd=self.root
        )
