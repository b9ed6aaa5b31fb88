"""Making a new worktree ready: copy local files (``.env``), reserve a port, run a setup command."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Collection
from pathlib import Path

from yokeflow.adapters.git.options import WorktreeSetup
from yokeflow.adapters.git.runner import run_shell
from yokeflow.errors import TemporaryError

__all__ = ["WorktreeSetupError", "copy_local_files", "free_port", "run_setup"]


class WorktreeSetupError(TemporaryError):
    """The setup command failed; the worktree is kept, ``output`` has what the command printed."""

    def __init__(self, path: Path, exit_code: int | None, output: str) -> None:
        self.path = path
        self.exit_code = exit_code
        self.output = output
        status = "timed out" if exit_code is None else f"exited {exit_code}"
        super().__init__(f"setup command in {path} {status}: {output.strip()[-500:]}")


def free_port(taken: Collection[int] = ()) -> int:
    """A TCP port free on this machine now and not in ``taken`` (ports given to other worktrees)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port
    raise TemporaryError("no free TCP port found")


def copy_local_files(source_root: Path, target_root: Path, paths: Collection[str]) -> list[str]:
    """Copy each of ``paths`` that exists in ``source_root`` and not yet in ``target_root``."""
    copied = []
    for relative in paths:
        source = source_root / relative
        target = target_root / relative
        if not source.exists() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)
        copied.append(relative)
    return copied


async def run_setup(
    setup: WorktreeSetup, *, path: Path, task_id: int, branch: str, port: int
) -> None:
    """Run the setup command in the worktree at ``path``; raises ``WorktreeSetupError`` on failure."""
    if not setup.command:
        return
    result = await run_shell(
        setup.command,
        cwd=path,
        time_limit=setup.timeout_seconds,
        env={
            "YOKEFLOW_WORKTREE": str(path),
            "YOKEFLOW_TASK_ID": str(task_id),
            "YOKEFLOW_BRANCH": branch,
            "YOKEFLOW_PORT": str(port),
        },
    )
    if not result.ok:
        raise WorktreeSetupError(path, result.exit_code, result.output)
