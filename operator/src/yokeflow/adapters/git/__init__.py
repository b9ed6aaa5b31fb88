"""The git adapter: task worktrees and the merge queue, run with the real ``git`` CLI."""

from yokeflow.adapters.git.merge_queue import MergeQueue, StepHook
from yokeflow.adapters.git.options import WorkspaceOptions, WorktreeSetup
from yokeflow.adapters.git.provisioning import WorktreeSetupError
from yokeflow.adapters.git.runner import GitResult, GitRunner
from yokeflow.adapters.git.worktrees import RecoveryReport, WorktreeManager

__all__ = [
    "GitResult",
    "GitRunner",
    "MergeQueue",
    "RecoveryReport",
    "StepHook",
    "WorkspaceOptions",
    "WorktreeManager",
    "WorktreeSetup",
    "WorktreeSetupError",
]
