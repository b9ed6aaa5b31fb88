"""The Claude adapter: agent sessions on the Claude Agent SDK and the CLI its wheel bundles."""

from yokeflow.adapters.claude.environment import session_environment
from yokeflow.adapters.claude.processes import marked_processes, reap
from yokeflow.adapters.claude.session import ClaudeAgentRunner, mcp_config

__all__ = [
    "ClaudeAgentRunner",
    "marked_processes",
    "mcp_config",
    "reap",
    "session_environment",
]
