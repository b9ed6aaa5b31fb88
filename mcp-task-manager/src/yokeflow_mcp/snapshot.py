"""The tool list as a contract: every tool's name, description, annotations and input schema.

``mcp-task-manager/tools.snapshot.json`` is generated from :func:`tool_snapshot` (``yokeflow
generate``), and a contract test fails when it is stale — so changing what agents see is always a
visible, reviewed change. Building the list opens no database: tools are only listed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from yokeflow_mcp.access import FixedScope
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.server import INSTRUCTIONS, SERVER_NAME, build_server

__all__ = ["SNAPSHOT_PATH", "tool_snapshot"]

SNAPSHOT_PATH = "mcp-task-manager/tools.snapshot.json"
"""Repository-relative path of the generated snapshot."""


class _Unused:
    """Stands in for the store and plan edits: listing tools never touches them."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"listing tools must not use the store ({name})")


async def _tools() -> list[Any]:
    app = build_server(_Unused(), _Unused(), FixedScope(Scope(project_id=0)))
    return await app.list_tools()


def tool_snapshot() -> dict[str, Any]:
    """The server's name, instructions and tools (sorted by name) as plain JSON data."""
    tools = asyncio.run(_tools())
    return {
        "server": SERVER_NAME,
        "instructions": INSTRUCTIONS,
        "tools": [
            {
                "name": t.name,
                "description": t.description,
                "annotations": None
                if t.annotations is None
                else t.annotations.model_dump(exclude_none=True),
                "inputSchema": t.inputSchema,
            }
            for t in sorted(tools, key=lambda t: t.name)
        ],
    }
