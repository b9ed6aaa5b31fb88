"""Adding a tool: guarded against stack traces, described by its cleaned-up docstring."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

from yokeflow_mcp.failures import guarded

__all__ = ["READ_ONLY", "WRITES", "add_tool"]

READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
"""Tools that change nothing."""
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False)
"""Tools that change the plan or a task's state (never delete anything)."""


def add_tool(
    app: FastMCP[Any], fn: Callable[..., Awaitable[Any]], annotations: ToolAnnotations
) -> None:
    """Register ``fn`` under its own name; its docstring is what the agent reads."""
    app.add_tool(
        guarded(fn),
        description=inspect.cleandoc(fn.__doc__ or ""),
        annotations=annotations,
    )
