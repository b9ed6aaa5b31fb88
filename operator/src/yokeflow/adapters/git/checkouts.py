"""Adding, removing and pruning worktrees: one at a time per repository, retrying git's known race.

``git worktree add/remove/prune`` read and write ``.git/worktrees/`` without a lock of their own;
run concurrently they fail now and then with ``failed to read worktrees/<n>/commondir``. Every
such call goes through :class:`Checkouts`, which holds the repository-wide lock (across
processes) and still retries that specific error, should another tool race us.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from yokeflow.adapters.git.locks import RepositoryLock
from yokeflow.adapters.git.repository import Repository, is_worktree_race
from yokeflow.adapters.git.runner import GitResult
from yokeflow.errors import GitCommandError

__all__ = ["Checkouts", "admin_dir", "has_index"]

_ATTEMPTS = 5


class Checkouts:
    """The worktree bookkeeping of one repository, serialized by its lock."""

    def __init__(self, repo: Repository, lock: RepositoryLock) -> None:
        self.repo = repo
        self.lock = lock

    async def _git(self, *args: str) -> GitResult:
        for attempt in range(_ATTEMPTS):
            try:
                return await self.repo.git.run(*args, cwd=self.repo.root)
            except GitCommandError as exc:
                if attempt == _ATTEMPTS - 1 or not is_worktree_race(exc):
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def add(self, path: Path, *, branch: str, start: str | None) -> None:
        """Add a worktree at ``path`` on ``branch`` (created at ``start`` when given), pruning first.

        Only the bookkeeping runs under the lock (``--no-checkout``); writing the files, the slow
        part on a large repository, runs outside it, so several worktrees fill in at once.
        """
        async with self.lock.hold():
            await self._git("worktree", "prune")
            self._move_aside(path)
            if start is None:
                await self._git("worktree", "add", "-q", "--no-checkout", str(path), branch)
            else:
                await self._git(
                    "worktree", "add", "-q", "--no-checkout", "-b", branch, str(path), start
                )
        await self.complete(path)

    async def complete(self, path: Path) -> None:
        """Finish a checkout that never ran or was interrupted (its worktree has no index yet).

        Without an index git sees every file as deleted; nobody has worked in such a worktree
        (it is handed out only once complete), so filling it in loses nothing.
        """
        if not has_index(path):
            await self.repo.git.run("reset", "-q", "--hard", cwd=path)

    async def add_detached(self, path: Path, commit: str) -> None:
        async with self.lock.hold():
            await self._git("worktree", "prune")
            self._move_aside(path)
            await self._git("worktree", "add", "-q", "--detach", str(path), commit)

    async def remove(self, path: Path) -> None:
        """Remove the worktree at ``path`` (callers commit what must be kept first)."""
        async with self.lock.hold():
            try:
                await self._git("worktree", "remove", "--force", "--force", str(path))
            except GitCommandError as exc:
                if "is not a working tree" not in exc.stderr:
                    raise
                self._move_aside(path)
            await self._git("worktree", "prune")

    async def prune(self) -> None:
        async with self.lock.hold():
            await self._git("worktree", "prune")

    def _move_aside(self, path: Path) -> None:
        """A folder in the way that git does not know as a worktree is kept aside, never deleted."""
        if not path.exists():
            return
        if (path / ".git").exists() and self._registered(path):
            return
        aside = path.parent / ".orphaned" / f"{path.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(aside))

    def _registered(self, path: Path) -> bool:
        return admin_dir(path) is not None


def admin_dir(path: Path) -> Path | None:
    """The worktree's own git dir (``<common>/worktrees/<name>``) if it points back at ``path``."""
    try:
        pointer = (path / ".git").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    admin = Path(pointer.removeprefix("gitdir:").strip())
    try:
        back = Path((admin / "gitdir").read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return admin if back.resolve() == (path / ".git").resolve() else None


def has_index(path: Path) -> bool:
    """True once the worktree at ``path`` has been checked out (git wrote its index)."""
    admin = admin_dir(path)
    return admin is None or (admin / "index").exists()
