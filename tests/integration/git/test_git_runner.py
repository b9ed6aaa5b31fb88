"""The async git runner (timeouts kill the whole process group) and the repository lock."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from yokeflow.adapters.git import GitRunner
from yokeflow.adapters.git.locks import RepositoryLock
from yokeflow.adapters.git.repository import Repository
from yokeflow.adapters.git.runner import run_shell
from yokeflow.errors import ConfigError, GitCommandError, TemporaryError


async def test_failure_carries_command_exit_code_and_stderr(repository: Path) -> None:
    with pytest.raises(GitCommandError) as caught:
        await GitRunner().run("rev-parse", "--verify", "no-such-ref", cwd=repository)
    error = caught.value
    assert error.command == ("git", "rev-parse", "--verify", "no-such-ref")
    assert error.exit_code == 128
    assert "Needed a single revision" in error.stderr
    assert error.retryable


async def test_timeout_kills_git_and_its_children(repository: Path, tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    runner = GitRunner(timeout=0.5)
    start = time.monotonic()
    with pytest.raises(GitCommandError) as caught:
        # a git alias runs a shell: its child must die with it
        await runner.run("-c", f"alias.slow=!sleep 3 && touch {marker}", "slow", cwd=repository)
    assert caught.value.exit_code is None
    assert "timed out" in str(caught.value)
    assert time.monotonic() - start < 2.5
    await asyncio.sleep(3.5)
    assert not marker.exists()


async def test_helpers_answer_about_the_repository(repository: Path) -> None:
    repo = Repository(repository, GitRunner())
    await repo.open()
    assert await repo.main_branch() == "main"
    assert await repo.current_branch() == "main"
    assert not await repo.has_uncommitted_changes(repository)
    (repository / "new.txt").write_text("x\n", encoding="utf-8")
    assert await repo.has_uncommitted_changes(repository)
    assert repo.common_dir == (repository / ".git").resolve()


async def test_not_a_repository_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a git work tree"):
        await Repository(tmp_path, GitRunner()).open()


async def test_lock_excludes_and_a_cancelled_waiter_leaves_it_free(tmp_path: Path) -> None:
    path = tmp_path / "repo.lock"
    first, second = RepositoryLock(path), RepositoryLock(path, timeout=0.3)
    async with first.hold():
        with pytest.raises(TemporaryError, match="waited"):
            async with second.hold():
                pass
        waiter = asyncio.create_task(RepositoryLock(path).hold().__aenter__())
        await asyncio.sleep(0.1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    async with RepositoryLock(path, timeout=1).hold():
        pass


async def test_shell_output_is_kept_when_a_command_times_out(tmp_path: Path) -> None:
    result = await run_shell("echo started; sleep 5; echo never", cwd=tmp_path, time_limit=0.5)
    assert result.exit_code is None
    assert not result.ok
    assert result.output.startswith("started\n")
    assert "never" not in result.output
    assert "timed out after 0.5s" in result.output
    done = await run_shell("echo out; echo err >&2; exit 4", cwd=tmp_path, time_limit=5)
    assert (done.exit_code, done.output) == (4, "out\nerr\n")
