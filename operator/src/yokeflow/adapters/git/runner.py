"""Running git (and shell commands such as setup hooks and verification) with a timeout.

Every command runs as an asyncio subprocess in its own process group, so a timeout or a cancelled
caller kills it together with its children (hooks, test runners) instead of leaving orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from yokeflow.errors import GitCommandError

__all__ = ["CommandOutput", "GitResult", "GitRunner", "run_shell"]

# Variables that would point git at another repository than the one we name with cwd.
_REPOSITORY_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
)


@dataclass(frozen=True, slots=True)
class GitResult:
    """A finished git command."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """A finished (or timed out: ``exit_code`` None) shell command, stdout and stderr interleaved."""

    exit_code: int | None
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _base_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARS}
    # Stable, parseable messages; never wait for a password prompt or an editor.
    env.update(
        LC_ALL="C",
        LANGUAGE="C",
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR="true",
        GIT_MERGE_AUTOEDIT="no",
        GIT_PAGER="cat",
    )
    env.update(extra or {})
    return env


async def _communicate(
    process: asyncio.subprocess.Process, stdin: bytes | None, limit: float
) -> tuple[bytes, bytes] | None:
    """Wait for the process; on timeout or cancellation kill its whole group. None: timed out."""
    try:
        return await asyncio.wait_for(process.communicate(stdin), limit)
    except TimeoutError:
        _kill_group(process)
        await process.wait()
        return None
    except BaseException:
        _kill_group(process)
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())
        raise


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class GitRunner:
    """Runs the real ``git`` CLI; every call has a timeout and raises ``GitCommandError`` on failure."""

    def __init__(
        self,
        *,
        timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
        executable: str = "git",
    ) -> None:
        self.timeout = timeout
        self.executable = executable
        self._env = _base_env(env)

    def with_env(self, env: Mapping[str, str]) -> GitRunner:
        """A runner with extra environment variables (e.g. a commit identity)."""
        runner = GitRunner(timeout=self.timeout, executable=self.executable)
        runner._env = {**self._env, **env}
        return runner

    async def run(
        self,
        *args: str,
        cwd: Path,
        ok_codes: Sequence[int] = (0,),
        time_limit: float | None = None,
        stdin: str | None = None,
    ) -> GitResult:
        """Run ``git <args>`` in ``cwd``; an exit code outside ``ok_codes`` raises ``GitCommandError``."""
        command = (self.executable, *args)
        limit = self.timeout if time_limit is None else time_limit
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=cwd,
                env=self._env,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise GitCommandError(command, exc.errno, str(exc)) from exc
        streams = await _communicate(process, stdin.encode() if stdin is not None else None, limit)
        if streams is None:
            raise GitCommandError(command, None, f"timed out after {limit:g}s")
        out, err = (s.decode("utf-8", errors="replace") for s in streams)
        code = process.returncode
        assert code is not None
        if code not in ok_codes:
            raise GitCommandError(command, code, err or out)
        return GitResult(args=tuple(args), exit_code=code, stdout=out, stderr=err)

    async def output(self, *args: str, cwd: Path) -> str:
        """``git <args>``'s standard output, stripped."""
        return (await self.run(*args, cwd=cwd)).stdout.strip()


async def run_shell(
    command: str, *, cwd: Path, time_limit: float, env: Mapping[str, str] | None = None
) -> CommandOutput:
    """Run ``command`` with the system shell in ``cwd``; output is kept whatever happens.

    The output goes to a temporary file rather than a pipe, so what a command printed before it
    timed out is kept too (a hung test suite says where it hung).
    """
    with tempfile.TemporaryFile() as sink:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=cwd,
            env={
                k: v for k, v in {**os.environ, **(env or {})}.items() if k not in _REPOSITORY_VARS
            },
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        finished = await _communicate(process, None, time_limit)
        sink.seek(0)
        output = sink.read().decode("utf-8", errors="replace")
    if finished is None:
        return CommandOutput(exit_code=None, output=f"{output}\ntimed out after {time_limit:g}s")
    return CommandOutput(exit_code=process.returncode, output=output)
