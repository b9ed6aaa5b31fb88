"""The task checkout port on git and bash: verify, commit, and where the worktree stands."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from yokeflow.errors import GitCommandError
from yokeflow.ports.checkout import Changes, VerificationStep

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


def changes_since(cwd: Path, base: str, session_start: str | None = None) -> Changes:
    """What ``HEAD`` changed since its merge base with ``base``; see :class:`Changes`. Working on
    ``base`` itself (a plain checkout), the changes since ``session_start`` count."""
    try:
        start = _git(cwd, "merge-base", base, "HEAD")
    except GitCommandError:
        # Not a branch we share history with (or none by that name here: a pod's clone holds
        # only the task branch): compare with it directly, else with where the session began.
        start = base if session_start is None or _resolves(cwd, base) else session_start
    if session_start is not None and start == _git(cwd, "rev-parse", "HEAD"):
        start = session_start
    paths = tuple(_git(cwd, "diff", "--name-only", "--no-renames", start, "HEAD").splitlines())
    added: list[str] = []
    removed: list[str] = []
    if ".gitignore" in paths:
        diff = _git(cwd, "diff", "-U0", start, "HEAD", "--", ".gitignore")
        for line in diff.splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added.append(line[1:].strip())
            elif line.startswith("-") and not line.startswith("---"):
                removed.append(line[1:].strip())
    return Changes(
        tuple(p for p in paths if p),
        tuple(a for a in added if a),
        tuple(r for r in removed if r),
    )


def _resolves(cwd: Path, rev: str) -> bool:
    try:
        _git(cwd, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitCommandError:
        return False
    return True


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

    def changes_since(self, base: str, session_start: str | None = None) -> Changes:
        """What the branch changed since ``base``; see :func:`changes_since`."""
        return changes_since(self.path, base, session_start)

    def head(self) -> str | None:
        """The current commit."""
        return head(self.path)

    def branch(self) -> str:
        """The checked-out branch."""
        return current_branch(self.path)
