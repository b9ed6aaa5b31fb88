"""The runner's books over HTTP: session rows and costs reported from pods without a database,
and the plan's summary a planning runner checks its work with.

Served next to the MCP endpoint (see :mod:`yokeflow.ports.session_reports` for the paths and the
wire format). Each request's bearer token fixes the project and task: a task-scoped token opens
and closes sessions of its own task only, a project-wide token (a planning session) those of its
project with no task. A cost is recorded once per session, so a runner may repeat a report whose
answer it did not receive. Errors are JSON ``{"error": sentence}``: 400 for a malformed report,
403 for another scope's session, 404 for an unknown one, 409 for an illegal status change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from mcp.server.fastmcp import FastMCP
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yokeflow.core.graph import graph_from_records
from yokeflow.core.records import Session, SessionStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError, YokeflowError
from yokeflow.ports.session_reports import PLAN_PATH, SCOPE_PATH, SESSIONS_PATH
from yokeflow_mcp.scope import AccessDeniedError, Scope
from yokeflow_mcp.toolbox import Toolbox

__all__ = ["register"]

_log = logging.getLogger("yokeflow_mcp")

Handler = Callable[[Request], Awaitable[Response]]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Opened(_Report):
    model: str | None = Field(default=None, max_length=200)
    log_path: str | None = Field(default=None, max_length=4096)


class _Cost(_Report):
    model: str = Field(min_length=1, max_length=200)
    cost_usd: Decimal = Field(ge=0, le=10**8)
    operation: str = Field(default="task", min_length=1, max_length=40)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_creation_tokens: int = Field(default=0, ge=0)


class _Ended(_Report):
    status: SessionStatus
    summary: str | None = Field(default=None, max_length=20000)
    error: str | None = Field(default=None, max_length=20000)
    metrics: dict[str, Any] = Field(default_factory=dict)


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _answering(fn: Handler) -> Handler:
    """``fn`` with our errors answered as JSON sentences (never a traceback)."""

    async def answer(request: Request) -> Response:
        try:
            return await fn(request)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return _refused(400, f"invalid report: {where}: {first['msg']}")
        except ValueError as exc:  # not JSON at all
            return _refused(400, f"invalid report: {exc}")
        except AccessDeniedError as exc:
            return _refused(403, str(exc))
        except NotFoundError as exc:
            return _refused(404, str(exc))
        except InvalidTransitionError as exc:
            return _refused(409, str(exc))
        except YokeflowError as exc:
            return _refused(503, str(exc))
        except Exception:
            _log.exception("session report %s failed", request.url.path)
            return _refused(500, "internal error")

    return answer


def register(app: FastMCP[Any], box: Toolbox, http_path: str) -> None:
    """Add the session-report routes under ``http_path`` (the MCP endpoint's path)."""
    base = http_path.rstrip("/")

    async def own_session(request: Request, scope: Scope) -> Session:
        raw = request.path_params["session_id"]
        session = await box.store.get_session(int(raw))
        if session is None or session.project_id != scope.project_id:
            raise NotFoundError(f"unknown session {raw}")
        if session.task_id != scope.task_id:
            raise AccessDeniedError(f"session {raw} belongs to another task")
        return session

    @_answering
    async def reporting_scope(request: Request) -> Response:
        scope = box.access.scope(request)
        task = await box.task(scope, scope.task_id) if scope.task_id is not None else None
        return JSONResponse(
            {
                "project_id": scope.project_id,
                "project": await box.project_name(scope),
                "task_id": scope.task_id,
                "task": task.key if task is not None else None,
            }
        )

    @_answering
    async def open_session(request: Request) -> Response:
        scope = box.access.scope(request)
        body = _Opened.model_validate(await request.json())
        session = await box.store.start_session(
            scope.project_id,
            task_id=scope.task_id,
            kind="task" if scope.task_id is not None else "planning",
            model=body.model,
            log_path=body.log_path,
        )
        return JSONResponse({"id": session.id}, status_code=201)

    @_answering
    async def session_cost(request: Request) -> Response:
        scope = box.access.scope(request)
        session = await own_session(request, scope)
        body = _Cost.model_validate(await request.json())
        paid = await box.store.list_agent_costs(scope.project_id)
        if any(cost.session_id == session.id for cost in paid):
            return JSONResponse({"recorded": False})  # a repeated report: recorded once
        await box.store.record_agent_cost(
            scope.project_id,
            model=body.model,
            cost_usd=body.cost_usd,
            session_id=session.id,
            task_id=scope.task_id,
            operation=body.operation,
            input_tokens=body.input_tokens,
            output_tokens=body.output_tokens,
            cache_read_tokens=body.cache_read_tokens,
            cache_creation_tokens=body.cache_creation_tokens,
        )
        return JSONResponse({"recorded": True}, status_code=201)

    @_answering
    async def end_session(request: Request) -> Response:
        scope = box.access.scope(request)
        session = await own_session(request, scope)
        body = _Ended.model_validate(await request.json())
        if body.status is SessionStatus.RUNNING:
            raise InvalidTransitionError("a session is ended as succeeded, failed or cancelled")
        ended = await box.store.end_session(
            session.id, body.status, summary=body.summary, error=body.error, metrics=body.metrics
        )
        return JSONResponse({"id": ended.id, "status": ended.status.value})

    @_answering
    async def plan_summary(request: Request) -> Response:
        scope = box.access.scope(request)
        tasks = await box.store.get_tasks_with_dependencies(scope.project_id)
        epics = await box.store.list_epics(scope.project_id)
        graph = graph_from_records(tasks, epics)
        return JSONResponse(
            {"epics": len(epics), "tasks": len(tasks), "problems": graph.problems()}
        )

    one = f"{base}{SESSIONS_PATH}/{{session_id:int}}"
    routes: list[tuple[str, str, Handler]] = [
        (f"{base}{SCOPE_PATH}", "GET", reporting_scope),
        (f"{base}{PLAN_PATH}", "GET", plan_summary),
        (f"{base}{SESSIONS_PATH}", "POST", open_session),
        (f"{one}/cost", "POST", session_cost),
        (f"{one}/end", "POST", end_session),
    ]
    for path, method, handler in routes:
        app.custom_route(path, methods=[method])(handler)
