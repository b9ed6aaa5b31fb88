"""The agent port: run one agent session and say what it did and what it cost.

:class:`AgentRunner` is implemented by the Claude adapter (``yokeflow.adapters.claude``), which
runs the real Claude Agent SDK and its bundled CLI. :class:`CostRecorder` is the narrow part of
the store the runner needs to write ``agent_costs`` (the PostgreSQL store implements it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal, Protocol

from yokeflow.core.hygiene import Finding

__all__ = [
    "AgentRequest",
    "AgentResult",
    "AgentRunner",
    "Cancellation",
    "CostRecorder",
    "McpServer",
    "SessionEnd",
    "TokenUsage",
    "ToolFailure",
]

SessionEnd = Literal["completed", "error", "max_turns", "timeout", "cancelled"]
"""How a session ended: ``completed`` (the model finished), ``error`` (the model or the CLI
failed), ``max_turns``, ``timeout`` (stopped by us), ``cancelled`` (stopped on request)."""


@dataclass(frozen=True)
class McpServer:
    """An MCP server the session may use: a local command (stdio) or a URL (streamable HTTP)."""

    name: str
    """Its tools appear to the model as ``mcp__<name>__<tool>``."""
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """HTTP headers, e.g. the run-scoped bearer token in a cluster."""

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of command or url")


@dataclass(frozen=True)
class AgentRequest:
    """One session to run."""

    prompt: str
    """The user prompt (the rendered task prompt)."""
    cwd: Path
    """The worktree the agent works in."""
    model: str
    system_prompt: str | None = None
    """Appended to Claude Code's own system prompt; None keeps it as is."""
    mcp_servers: tuple[McpServer, ...] = ()
    max_turns: int = 60
    timeout_seconds: float = 1800.0
    task: str | None = None
    """The task key, sent as the ``X-Yokeflow-Task`` header (the scripted server matches on it)."""
    transcript_path: Path | None = None
    """Where the full transcript goes as JSON lines; None keeps none."""
    tools: tuple[str, ...] | None = None
    """The built-in tools offered (``Bash``, ``Read``, ``Write``, ``Edit``…); None: the CLI's set."""
    max_retries: int | None = None
    """How often the CLI retries a failing model call; None: its default."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the CLI process (overrides the computed one)."""
    marker: str | None = None
    """Names every process of the session (a lease's handle: how a later run finds and ends
    what a killed run left running); None: a fresh one."""


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of a session by kind."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0

    @property
    def total(self) -> int:
        """All tokens together."""
        return self.input + self.output + self.cache_read + self.cache_creation


@dataclass(frozen=True)
class ToolFailure:
    """A tool call that failed during the session (the session may still have succeeded)."""

    tool: str
    message: str


@dataclass(frozen=True)
class AgentResult:
    """What one session did and cost. Produced for every session, success or failure."""

    success: bool
    end: SessionEnd
    model: str
    total_cost_usd: Decimal
    """As the SDK reported it (the CLI prices the usage itself); 0 when it reported none."""
    usage: TokenUsage
    num_turns: int
    duration_seconds: float
    error: str | None = None
    session_id: str | None = None
    transcript_path: Path | None = None
    tools_used: tuple[str, ...] = ()
    """Tool names in the order of their first use."""
    tool_calls: int = 0
    tool_failures: tuple[ToolFailure, ...] = ()
    files_modified: tuple[str, ...] = ()
    """Paths relative to the session's directory that the session changed (committed or not)."""
    final_text: str | None = None
    """The model's last text (its summary)."""
    hygiene: tuple[Finding, ...] = ()
    """What the repository check found when the session ended (see :mod:`yokeflow.core.hygiene`)."""
    gitignore_added: tuple[str, ...] = ()
    """Entries the session-end check added to ``.gitignore``."""


class Cancellation(Protocol):
    """Something to wait on that is set when a session must stop (``anyio.Event`` fits)."""

    async def wait(self) -> None: ...


class AgentRunner(Protocol):
    """Runs agent sessions."""

    async def run(
        self, request: AgentRequest, *, cancel: Cancellation | None = None
    ) -> AgentResult:
        """Run one session to its end and return its result.

        A timeout or ``cancel`` ends the session with ``end="timeout"`` / ``"cancelled"``; the
        agent's processes are always gone when this returns (or raises). A model error is a
        result with ``success=False``, not an exception. Raises
        :class:`~yokeflow.errors.ConfigError` when no credentials or endpoint are configured.
        """
        ...


class CostRecorder(Protocol):
    """Writes one ``agent_costs`` row (the store implements it)."""

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> object: ...
