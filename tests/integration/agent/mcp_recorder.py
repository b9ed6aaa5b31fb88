"""A tiny stdio MCP server (FastMCP) standing in for the task manager: it records every call.

Usage: python mcp_recorder.py RECORD_FILE. Each call of ``update_task_status`` appends a JSON line
with its arguments and this server's pid. (The real task-manager MCP server is a later issue.)
"""

from __future__ import annotations

import json
import os
import sys

from mcp.server.fastmcp import FastMCP

server = FastMCP("task-manager")


@server.tool()
def update_task_status(task: str, status: str) -> str:
    """Set a task's status (pending, running, done, failed)."""
    with open(sys.argv[1], "a", encoding="utf-8") as out:
        out.write(json.dumps({"task": task, "status": status, "pid": os.getpid()}) + "\n")
    return f"task {task} is now {status}"


if __name__ == "__main__":
    server.run()
