"""How the worktree manager is set up: folders, branches, merge mode, hooks, timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from yokeflow.core.merging import MergeMode
from yokeflow.settings import Settings

__all__ = ["WorkspaceOptions", "WorktreeSetup"]


@dataclass(frozen=True, slots=True)
class WorktreeSetup:
    """What makes a fresh worktree ready to work in, run once after it is created."""

    copy_files: tuple[str, ...] = ()
    """Paths relative to the repository (e.g. ``.env``) copied from the user's checkout when present.

    They are never committed by YokeFlow's automatic commits."""
    command: str | None = None
    """A shell command run in the new worktree (``npm ci``, ``uv sync``...).

    It sees ``YOKEFLOW_WORKTREE``, ``YOKEFLOW_TASK_ID``, ``YOKEFLOW_BRANCH`` and ``YOKEFLOW_PORT``."""
    timeout_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class WorkspaceOptions:
    """Settings of one :class:`~yokeflow.adapters.git.WorktreeManager`."""

    worktree_dir: str = ".worktrees"
    """Task worktrees live here, relative to the repository; git-ignored through ``info/exclude``."""
    integration_branch: str = "yokeflow/integration"
    """The branch finished tasks are merged into, created from the main branch when missing.

    It must not be checked out in the user's own worktree: moving it under a checkout would make
    that checkout look as if the user had undone every merged change."""
    base_branch: str | None = None
    """Where the integration branch starts from when it is created (default: the main branch)."""
    branch_prefix: str = "yokeflow/task/"
    merge_mode: MergeMode = MergeMode.MERGE
    verify_command: str | None = None
    """A shell command run on the merged result in the integration worktree before it is published."""
    verify_timeout_seconds: float = 1800.0
    git_timeout_seconds: float = 120.0
    lock_timeout_seconds: float = 600.0
    setup: WorktreeSetup = field(default_factory=WorktreeSetup)
    folder_length: int = 48
    """Longest task folder name (Windows paths are short)."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> WorkspaceOptions:
        """The options a composition root builds from the settings (``overrides`` win)."""
        options = cls(
            worktree_dir=settings.parallel.worktree_dir,
            merge_mode=MergeMode(settings.parallel.merge_strategy),
        )
        return replace(options, **overrides)
