"""Tool failures as the agent sees them: one clear sentence, never a stack trace.

A :class:`~yokeflow.errors.YokeflowError` (unknown task, illegal transition, a cycle, a refused
scope) becomes a tool error with its own message. Anything else is a bug or an outage: it is
logged here with its traceback, and the agent gets a short "internal error" sentence.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.fastmcp.exceptions import ToolError

from yokeflow.errors import TemporaryError, YokeflowError

__all__ = ["guarded"]

_log = logging.getLogger("yokeflow_mcp")

P = ParamSpec("P")
R = TypeVar("R")


def guarded(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """``fn`` with its failures turned into :class:`ToolError`s an agent can read."""

    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except TemporaryError as exc:
            raise ToolError(f"{exc} (temporary: try again shortly)") from exc
        except YokeflowError as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            _log.exception("tool %s failed", fn.__name__)
            first = (str(exc).splitlines() or [""])[0]
            raise ToolError(
                f"internal error in {fn.__name__}: {type(exc).__name__}"
                + (f": {first}" if first else "")
            ) from exc

    return call
