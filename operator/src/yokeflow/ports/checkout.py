"""The task checkout port: what the task use case does in its worktree besides the agent —
run the verification, commit, and ask where the branch stands.

``yokeflow.adapters.task_checkout.GitTaskCheckout`` implements it with git and a shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["TaskCheckout", "VerificationStep"]


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

    def head(self) -> str | None:
        """The current commit (None before the first)."""
        ...

    def branch(self) -> str:
        """The checked-out branch."""
        ...
