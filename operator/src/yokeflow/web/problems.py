"""Errors as JSON problem responses (RFC 9457): one clear sentence, never a traceback.

The only place that maps YokeFlow's error tree to HTTP status codes.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from yokeflow.errors import (
    AlreadyExistsError,
    BudgetExhaustedError,
    ConfigError,
    InvalidTransitionError,
    NotFoundError,
    PermanentError,
    PlanError,
    TemporaryError,
    WorktreeConflictError,
    YokeflowError,
)
from yokeflow.web.auth import Unauthorized

__all__ = ["PROBLEM_TYPE", "install", "problem", "status_of"]

PROBLEM_TYPE = "application/problem+json"
_log = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[YokeflowError], int, str], ...] = (
    (NotFoundError, 404, "Not Found"),
    (AlreadyExistsError, 409, "Conflict"),
    (InvalidTransitionError, 409, "Conflict"),
    (WorktreeConflictError, 409, "Conflict"),
    (BudgetExhaustedError, 409, "Budget exhausted"),
    (PlanError, 422, "Invalid plan"),
    (ConfigError, 400, "Bad Request"),
    (PermanentError, 400, "Bad Request"),
    (TemporaryError, 503, "Service Unavailable"),
)


def status_of(error: YokeflowError) -> tuple[int, str]:
    if isinstance(error, Unauthorized):
        return 401, "Unauthorized"
    for kind, status, title in _STATUS:
        if isinstance(error, kind):
            return status, title
    return 500, "Internal Server Error"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _first_sentence(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request is not valid."
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the request"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}."


async def _yokeflow_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, YokeflowError)
    status, title = status_of(exc)
    return problem(status, title, str(exc), retryable=exc.retryable)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return problem(422, "Unprocessable Content", _first_sentence(exc), errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, _title(exc.status_code), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "Internal Server Error",
        f"Unexpected error ({type(exc).__name__}); see the server log.",
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(YokeflowError, _yokeflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
