"""The task checkout port: what the task use case does in its worktree besides the agent —
run the verification, commit, and ask where the branch stands.

``yokeflow.adapters.task_checkout.GitTaskCheckout`` implements it with git and a shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Changes", "TaskCheckout", "VerificationStep"]


@dataclass(frozen=True)
class Changes:
    """What a task branch changed: its paths, and the lines its ``.gitignore`` gained / lost."""

    paths: tuple[str, ...] = ()
    gitignore_added: tuple[str, ...] = ()
    gitignore_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerificationStep:
    """One verification command and how it went."""

    command: str
    exit_code: int | None
    """None when it timed out."""
    duration_seconds: float
    output: str
    """The end of its combined stdout and stderr."""

    @property
    def passed(self) -> bool:
        """Whether it exited 0."""
        return self.exit_code == 0


class TaskCheckout(Protocol):
    """A task's worktree. Blocking calls: the use case runs them in worker threads."""

    def verify(self, commands: list[str], timeout_seconds: float) -> list[VerificationStep]:
        """Run each command in the worktree, stopping at the first that fails."""
        ...

    def commit_all(self, message: str) -> str | None:
        """Stage everything not ignored and commit; the new commit, or None when clean."""
        ...

    def changes_since(self, base: str, session_start: str | None = None) -> Changes:
        """What the branch changed since it left ``base`` (a branch or commit): from their merge
        base to ``HEAD``, so work merged in from ``base`` does not count. On ``base`` itself,
        what changed since ``session_start``."""
        ...

    def head(self) -> str | None:
        """The current commit (None before the first)."""
        ...

    def branch(self) -> str:
        """The checked-out branch."""
        ...
