"""The wire contract between a runner in a pod and the MCP task manager's HTTP server.

Agents and runners in a cluster never hold database credentials. A runner keeps the same books
as a local one — a ``sessions`` row opened when its session starts and closed when it ends, and
the ``agent_costs`` row of what the session cost — by reporting them over HTTP, next to the MCP
endpoint and with the same bearer token (its run- or task-scoped token). The server fills in the
project and task from the token, never from the request.

Paths are relative to the MCP endpoint's URL (``https://host/mcp`` → ``https://host/mcp/sessions``),
so wherever the task manager is mounted, a runner finds them from its MCP configuration alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "PLAN_PATH",
    "SCOPE_PATH",
    "SESSIONS_PATH",
    "PlanSummary",
    "ReportingScope",
    "session_cost_path",
    "session_end_path",
]

SCOPE_PATH = "/scope"
"""``GET``: the token's project and task (:class:`ReportingScope` as JSON)."""
PLAN_PATH = "/plan"
"""``GET``: the token's project's plan as it stands (:class:`PlanSummary` as JSON)."""
SESSIONS_PATH = "/sessions"
"""``POST {"model", "log_path"}``: open a session row of the token's task (or of its project, a
planning session); answers ``{"id": …}``."""


def session_cost_path(session_id: int) -> str:
    """``POST`` the session's cost (``model``, ``cost_usd`` as a decimal string, token counts);
    recorded once per session — a repeated report is answered ``{"recorded": false}``."""
    return f"{SESSIONS_PATH}/{session_id}/cost"


def session_end_path(session_id: int) -> str:
    """``POST {"status", "summary", "error", "metrics"}``: close the session row."""
    return f"{SESSIONS_PATH}/{session_id}/end"


@dataclass(frozen=True, slots=True)
class ReportingScope:
    """What a token lets its holder report about: one project, and one of its tasks or none."""

    project_id: int
    project: str
    """The project's name."""
    task_id: int | None = None
    task: str | None = None
    """The task's key (None for a project-wide token: a planning session)."""


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """A project's plan as a planning runner checks it: its size and what is wrong with it."""

    epics: int
    tasks: int
    problems: tuple[str, ...] = ()
    """Cycles and unknown dependencies (the dependency graph's problems); empty: valid."""
