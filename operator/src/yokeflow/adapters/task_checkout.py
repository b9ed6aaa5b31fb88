"""The task checkout port on git and bash: verify, commit, and where the worktree stands."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from yokeflow.errors import GitCommandError
from yokeflow.ports.checkout import VerificationStep

__all__ = ["GitTaskCheckout", "commit_all", "current_branch", "head", "run_verification"]

_OUTPUT_TAIL = 4000


def run_verification(
    cwd: Path, commands: list[str], *, timeout_seconds: float = 900.0
) -> list[VerificationStep]:
    """Run each command with ``bash -c`` in ``cwd``; stops at the first failure."""
    steps: list[VerificationStep] = []
    for command in commands:
        began = time.monotonic()
        try:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=timeout_seconds,
                check=False,
                start_new_session=True,
            )
            code: int | None = done.returncode
            output = (done.stdout + done.stderr)[-_OUTPUT_TAIL:]
        except subprocess.TimeoutExpired as exc:
            code = None
            partial = exc.stdout or b""
            text = partial.decode("utf-8", "replace") if isinstance(partial, bytes) else partial
            output = f"{text[-_OUTPUT_TAIL:]}\n(timed out after {timeout_seconds:g} s)"
        steps.append(VerificationStep(command, code, time.monotonic() - began, output))
        if code != 0:
            break
    return steps


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-C", str(cwd), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise GitCommandError(command, done.returncode, done.stderr)
    return done.stdout.strip()


def commit_all(cwd: Path, message: str) -> str | None:
    """Stage everything not ignored and commit it; returns the new commit, or None if clean.

    Runs after the session-end ``.gitignore`` fix, so dependency folders stay out.
    """
    _git(cwd, "add", "-A")
    if not _git(cwd, "status", "--porcelain"):
        return None
    _git(cwd, "commit", "-q", "--no-verify", "-m", message)
    return _git(cwd, "rev-parse", "HEAD")


def head(cwd: Path) -> str | None:
    """The worktree's current commit (None in a repository without commits)."""
    try:
        return _git(cwd, "rev-parse", "HEAD")
    except GitCommandError:
        return None


def current_branch(cwd: Path) -> str:
    """The branch checked out in ``cwd``."""
    return _git(cwd, "rev-parse", "--abbrev-ref", "HEAD")


class GitTaskCheckout:
    """The git worktree of one task (implements :class:`yokeflow.ports.checkout.TaskCheckout`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def verify(self, commands: list[str], timeout_seconds: float) -> list[VerificationStep]:
        """Run the verification commands; see :func:`run_verification`."""
        return run_verification(self.path, commands, timeout_seconds=timeout_seconds)

    def commit_all(self, message: str) -> str | None:
        """Commit everything not ignored; see :func:`commit_all`."""
        return commit_all(self.path, message)

    def head(self) -> str | None:
        """The current commit."""
        return head(self.path)

    def branch(self) -> str:
        """The checked-out branch."""
        return current_branch(self.path)
