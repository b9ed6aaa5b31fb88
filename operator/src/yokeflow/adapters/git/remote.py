"""Reading a remote's branch heads with ``git ls-remote`` (no clone, nothing on disk).

The operator's view of a run's repository (``ports.remote.RemoteBranches``). Credentials come
from the environment git is given (the operator's own, or none for a public / in-cluster server).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from yokeflow.adapters.git.runner import GitRunner

__all__ = ["LsRemote"]


class LsRemote:
    """``git ls-remote <url> refs/heads/<branch>…`` (implements ``RemoteBranches``)."""

    def __init__(self, url: str, git: GitRunner | None = None) -> None:
        self._url = url
        self._git = git or GitRunner(timeout=60.0)

    async def heads(self, branches: Sequence[str]) -> Mapping[str, str]:
        if not branches:
            return {}
        refs = [f"refs/heads/{b}" for b in branches]
        # Any folder will do: ls-remote needs no repository, only a working directory.
        result = await self._git.run(
            "ls-remote", "--", self._url, *refs, cwd=Path(tempfile.gettempdir())
        )
        found: dict[str, str] = {}
        for line in result.stdout.splitlines():
            commit, _, ref = line.partition("\t")
            if ref.startswith("refs/heads/"):
                found[ref.removeprefix("refs/heads/")] = commit
        return found
