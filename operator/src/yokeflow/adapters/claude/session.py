"""The Claude adapter of the agent port: one session of the real Claude Agent SDK and its CLI."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import anyio
from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKError, query
from claude_agent_sdk.types import McpServerConfig, SystemPromptPreset

from yokeflow.adapters import git_hygiene
from yokeflow.adapters.claude import processes
from yokeflow.adapters.claude.environment import agent_environment, session_environment
from yokeflow.adapters.claude.session_files import SessionFiles, bundled_cli
from yokeflow.adapters.claude.transcript import SessionLog
from yokeflow.core.hygiene import Finding
from yokeflow.errors import AgentError
from yokeflow.ports.agent import (
    AgentRequest,
    AgentResult,
    Cancellation,
    McpServer,
    SessionEnd,
)

__all__ = ["ClaudeAgentRunner", "mcp_config"]


def mcp_config(server: McpServer) -> McpServerConfig:
    """The SDK's configuration of one MCP server."""
    if server.command is not None:
        return {
            "type": "stdio",
            "command": server.command,
            "args": list(server.args),
            "env": dict(server.env),
        }
    assert server.url is not None  # McpServer guarantees one of command / url
    return {"type": "http", "url": server.url, "headers": dict(server.headers)}


def _git(cwd: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout if done.returncode == 0 else None


def _changed_files(cwd: Path, start: str | None) -> list[str]:
    """Files changed since ``start`` (committed or not) plus untracked ones."""
    changed: list[str] = []
    if start is not None:
        diff = _git(cwd, "diff", "--name-only", "--no-renames", start)
        changed += (diff or "").splitlines()
    untracked = _git(cwd, "ls-files", "--others", "--exclude-standard")
    changed += (untracked or "").splitlines()
    return sorted({p for p in changed if p})


_COST_QUANTUM = Decimal("1e-10")


class _Run:
    """How a running session is doing: stopped (and why), or finished by itself."""

    def __init__(self) -> None:
        self.stop = anyio.Event()
        self.finished = False
        self.cancelled = False
        self.timed_out = False
        self.error: str | None = None


async def _watch(cancel: Cancellation, state: _Run) -> None:
    await cancel.wait()
    if not state.stop.is_set():
        state.cancelled = True
        state.stop.set()


class ClaudeAgentRunner:
    """Runs sessions with the Claude Agent SDK (an :class:`~yokeflow.ports.agent.AgentRunner`).

    ``endpoint`` is an Anthropic Messages API base URL (the scripted model server); without
    one the CLI talks to Anthropic with ``ANTHROPIC_API_KEY`` / ``CLAUDE_CODE_OAUTH_TOKEN`` from
    ``environ`` (default: this process's environment). Sessions run with
    ``bypassPermissions``: the agent edits and runs commands in its worktree without prompts.

    A session's processes see only the allow-listed part of ``environ``
    (:mod:`~yokeflow.adapters.claude.environment`) plus the names in ``pass_environment``; its MCP
    configuration, bearer tokens included, is a 0600 file, never a command-line argument
    (:mod:`~yokeflow.adapters.claude.session_files`).
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        environ: Mapping[str, str] | None = None,
        cli_path: Path | None = None,
        check_hygiene: bool = True,
        reap_grace_seconds: float = 3.0,
        pass_environment: Iterable[str] = (),
    ) -> None:
        self._endpoint = endpoint
        self._pass = tuple(pass_environment)
        self._environ = environ
        self._cli_path = cli_path
        self._check_hygiene = check_hygiene
        self._grace = reap_grace_seconds

    def _options(
        self,
        request: AgentRequest,
        environ: Mapping[str, str],
        session: dict[str, str],
        log: SessionLog,
        files: SessionFiles,
    ) -> ClaudeAgentOptions:
        system: SystemPromptPreset | None = None
        if request.system_prompt:
            system = {"type": "preset", "preset": "claude_code", "append": request.system_prompt}
        env = agent_environment(environ, {**session, **request.env}, self._pass)
        # The SDK starts the CLI with all of this process's environment plus ``env``: the
        # launcher removes what ``env`` does not hold.
        launcher = files.launcher(
            self._cli_path or bundled_cli(), (name for name in os.environ if name not in env)
        )
        servers = {s.name: mcp_config(s) for s in request.mcp_servers}
        return ClaudeAgentOptions(
            cwd=str(request.cwd),
            model=request.model,
            system_prompt=system,
            mcp_servers=str(files.mcp_config(servers)) if servers else {},
            strict_mcp_config=True,
            max_turns=request.max_turns,
            permission_mode="bypassPermissions",
            tools=list(request.tools) if request.tools is not None else None,
            # No user/project settings: a worktree's .claude/ must not add hooks to our agents.
            setting_sources=[],
            env=env,
            stderr=log.stderr,
            cli_path=launcher,
        )

    async def run(
        self, request: AgentRequest, *, cancel: Cancellation | None = None
    ) -> AgentResult:
        """Run one session; see :meth:`yokeflow.ports.agent.AgentRunner.run`."""
        environ = os.environ if self._environ is None else self._environ
        marker = request.marker or uuid.uuid4().hex
        session = session_environment(
            environ,
            endpoint=self._endpoint,
            cwd=request.cwd,
            marker=marker,
            task=request.task,
            max_retries=request.max_retries,
        )
        if not request.cwd.is_dir():
            raise AgentError(f"the session's directory {request.cwd} does not exist")
        in_git = await anyio.to_thread.run_sync(git_hygiene.is_git_repository, request.cwd)
        start: str | None = None
        before: set[str] = set()
        if in_git:
            head = await anyio.to_thread.run_sync(_git, request.cwd, "rev-parse", "HEAD")
            start = (head or "").strip() or None
            before = set(await anyio.to_thread.run_sync(_changed_files, request.cwd, start))
        log = SessionLog(request.transcript_path, request.cwd)
        log.write(
            "request",
            {
                "task": request.task,
                "model": request.model,
                "cwd": str(request.cwd),
                "prompt": request.prompt,
                "system_prompt": request.system_prompt,
                "max_turns": request.max_turns,
                "timeout_seconds": request.timeout_seconds,
                "mcp_servers": [s.name for s in request.mcp_servers],
            },
        )
        began = time.monotonic()
        state = _Run()
        try:
            with SessionFiles() as private:
                options = self._options(request, environ, session, log, private)
                try:
                    await self._drive(request, options, log, state, marker, cancel)
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._reap(marker, log)
        except BaseException:
            log.close()  # the caller was cancelled, or the SDK failed oddly: keep what we have
            raise
        duration = time.monotonic() - began
        error = state.error
        end = self._end(log, cancelled=state.cancelled, timed_out=state.timed_out, error=error)
        if end == "timeout":
            error = f"timed out after {request.timeout_seconds:g} s"
        elif end == "cancelled":
            error = "cancelled"
        elif end != "completed" and error is None:
            error = self._result_error(log)
        findings: list[Finding] = []
        added: list[str] = []
        files = list(log.edited)
        if in_git:
            after = await anyio.to_thread.run_sync(_changed_files, request.cwd, start)
            # Files already dirty before the session are not its doing (unless it edited them).
            files = sorted(set(files) | (set(after) - before))
            if self._check_hygiene:
                findings = await anyio.to_thread.run_sync(
                    git_hygiene.validate_repository, request.cwd
                )
                added = await anyio.to_thread.run_sync(git_hygiene.fix_gitignore, request.cwd)
        result = AgentResult(
            success=end == "completed",
            end=end,
            model=request.model,
            total_cost_usd=self._cost(log),
            usage=log.usage(),
            num_turns=log.result.num_turns if log.result is not None else 0,
            duration_seconds=duration,
            error=error,
            session_id=log.session_id,
            transcript_path=request.transcript_path,
            tools_used=tuple(log.tools_used),
            tool_calls=log.tool_calls,
            tool_failures=tuple(log.tool_failures),
            files_modified=tuple(files),
            final_text=log.final_text,
            hygiene=tuple(findings),
            gitignore_added=tuple(added),
        )
        log.write("result", {"result": _summary(result)})
        log.close()
        return result

    async def _drive(
        self,
        request: AgentRequest,
        options: ClaudeAgentOptions,
        log: SessionLog,
        state: _Run,
        marker: str,
        cancel: Cancellation | None,
    ) -> None:
        """Run the session until it finishes, is cancelled or times out."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._consume, request, options, log, state)
            if cancel is not None:
                group.start_soon(_watch, cancel, state)
            with anyio.move_on_after(request.timeout_seconds):
                await state.stop.wait()
            if not state.finished:
                state.timed_out = not state.cancelled
                # Stop the processes first: the SDK's own close waits 5 s for a CLI that is
                # still waiting on the model; with the CLI gone it ends at once.
                await self._reap(marker, log)
            group.cancel_scope.cancel()

    @staticmethod
    async def _consume(
        request: AgentRequest, options: ClaudeAgentOptions, log: SessionLog, state: _Run
    ) -> None:
        try:
            # query() is an async generator: closing it closes the CLI transport.
            stream = cast(
                "AsyncGenerator[Any, None]", query(prompt=request.prompt, options=options)
            )
            async with aclosing(stream):
                async for message in stream:
                    log.add(message)
        except ClaudeSDKError as exc:
            # After an error result the SDK raises too; the result says it better.
            if log.result is None and not state.stop.is_set():
                state.error = str(exc)
        finally:
            if not state.stop.is_set():
                state.finished = True
                state.stop.set()

    async def _reap(self, marker: str, log: SessionLog) -> None:
        reaped = await anyio.to_thread.run_sync(processes.reap, marker, self._grace)
        if reaped:
            log.write("reaped", {"pids": reaped})

    @staticmethod
    def _end(log: SessionLog, *, cancelled: bool, timed_out: bool, error: str | None) -> SessionEnd:
        if cancelled:
            return "cancelled"
        if timed_out:
            return "timeout"
        result = log.result
        if result is None or error is not None:
            return "error"
        if result.subtype == "error_max_turns":
            return "max_turns"
        if result.is_error or result.subtype != "success":
            return "error"
        return "completed"

    @staticmethod
    def _result_error(log: SessionLog) -> str:
        result = log.result
        if result is None:
            tail = "; ".join(log.stderr_tail[-3:])
            return f"the CLI ended without a result{': ' + tail if tail else ''}"
        if result.subtype == "error_max_turns":
            return f"stopped after {result.num_turns} turns (max_turns)"
        detail = result.result or "; ".join(result.errors or []) or result.subtype
        status = f" (HTTP {result.api_error_status})" if result.api_error_status else ""
        return f"{detail}{status}"

    @staticmethod
    def _cost(log: SessionLog) -> Decimal:
        if log.result is None or log.result.total_cost_usd is None:
            return Decimal(0)
        # The CLI sums prices in binary floats (0.10725000000000001): drop the noise below
        # a 10^-10 dollar, far under the micro-dollar precision of ``agent_costs``.
        return Decimal(str(log.result.total_cost_usd)).quantize(_COST_QUANTUM).normalize()


def _summary(result: AgentResult) -> dict[str, Any]:
    return {
        "success": result.success,
        "end": result.end,
        "error": result.error,
        "total_cost_usd": str(result.total_cost_usd),
        "usage": vars(result.usage),
        "num_turns": result.num_turns,
        "duration_seconds": round(result.duration_seconds, 3),
        "tools_used": list(result.tools_used),
        "tool_failures": [vars(f) for f in result.tool_failures],
        "files_modified": list(result.files_modified),
        "hygiene": [f.message for f in result.hygiene],
        "gitignore_added": list(result.gitignore_added),
    }
