"""The Model Context Protocol server that gives agents the task tools.

:func:`build_server` assembles the FastMCP app over a :class:`~yokeflow.ports.store.Store` and
the atomic :class:`~yokeflow.ports.plan_edits.PlanEdits`; a :class:`Scope` (fixed, or from a
bearer token — :class:`SignedTokens`) says which project and task each call may touch.
"""

from yokeflow_mcp.access import BearerScope, FixedScope, ScopeSource
from yokeflow_mcp.scope import AccessDeniedError, Scope
from yokeflow_mcp.server import MCP_PATH, SERVER_NAME, build_server
from yokeflow_mcp.tokens import IssuedTokens, SignedTokens, TokenVerifier
from yokeflow_mcp.transports import http_app

__all__ = [
    "MCP_PATH",
    "SERVER_NAME",
    "AccessDeniedError",
    "BearerScope",
    "FixedScope",
    "IssuedTokens",
    "Scope",
    "ScopeSource",
    "SignedTokens",
    "TokenVerifier",
    "build_server",
    "http_app",
]
