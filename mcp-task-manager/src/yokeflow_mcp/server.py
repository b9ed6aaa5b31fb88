"""The MCP task manager: a FastMCP app with every task tool, bound to a store and a scope source.

:func:`build_server` only assembles; it opens nothing. The transports are in
:mod:`yokeflow_mcp.transports`, and :mod:`yokeflow_mcp.serve` wires a real database to them.
"""

from __future__ import annotations

from typing import Any

from mcp.server.fastmcp import FastMCP

from yokeflow.ports.plan_edits import PlanEdits
from yokeflow.ports.store import Store
from yokeflow_mcp import routes_sessions, tools_graph, tools_plan, tools_progress, tools_read
from yokeflow_mcp.access import ScopeSource
from yokeflow_mcp.toolbox import Toolbox

__all__ = ["INSTRUCTIONS", "MCP_PATH", "SERVER_NAME", "build_server"]

SERVER_NAME = "yokeflow-tasks"

MCP_PATH = "/mcp"
"""Where the HTTP transport serves the MCP endpoint by default."""

INSTRUCTIONS = """\
YokeFlow task manager: the plan of this project (epics, tasks, dependencies, tests).
Working on a task: get_next_task (claim=true when other agents share the project), start_task,
do the work and commit it, update_test_result for its tests, then
update_task_status(status='done'), or 'failed' with an error if you cannot finish it.
If you find you need another unfinished task first, call declare_dependency and end your session.
Tasks and epics are named by key (e.g. 'api-login') or id.\
"""


def build_server(
    store: Store,
    edits: PlanEdits,
    access: ScopeSource,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    http_path: str = MCP_PATH,
) -> FastMCP[Any]:
    """A FastMCP app serving the task tools; ``host``, ``port`` and ``http_path`` matter only
    for HTTP (an app mounted under ``/mcp`` by another server is built with ``http_path="/"``),
    where the runners' session reports are served under ``http_path`` too
    (:mod:`yokeflow_mcp.routes_sessions`)."""
    app: FastMCP[Any] = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        host=host,
        port=port,
        streamable_http_path=http_path,
        log_level="WARNING",
    )
    box = Toolbox(store, edits, access)
    tools_read.register(app, box)
    tools_progress.register(app, box)
    tools_plan.register(app, box)
    tools_graph.register(app, box)
    routes_sessions.register(app, box, http_path)
    return app
