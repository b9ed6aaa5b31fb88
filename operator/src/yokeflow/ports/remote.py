"""The run's git remote as the operator sees it: branch heads, read without a local clone.

In a cluster nothing of a run lives on the operator's disk: task Jobs push task branches to the
remote and merge Jobs push the integration branch. The operator only needs to know where a branch
points (the commit new task Jobs start from, whether a task's work is on a named branch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["RemoteBranches"]


class RemoteBranches(Protocol):
    """Branch heads of one remote repository (``git ls-remote``)."""

    async def heads(self, branches: Sequence[str]) -> Mapping[str, str]:
        """Branch name → commit, for those of ``branches`` that exist on the remote."""
        ...
