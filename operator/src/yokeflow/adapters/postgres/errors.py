"""PostgreSQL errors as YokeFlow errors: every public store method raises only our error tree.

A duplicate key is :class:`~yokeflow.errors.AlreadyExistsError`, a reference to a row that does
not exist is :class:`~yokeflow.errors.NotFoundError`, a lost connection is
:class:`~yokeflow.errors.DatabaseUnavailableError` and a deadlock or serialization failure a
plain :class:`~yokeflow.errors.TemporaryError` (retrying helps); the original is chained.

A deadlock is first retried here, a few times: PostgreSQL rolled the whole transaction back, and
each store method is one transaction (or statements that commit one by one, of which only the
last can take part in a deadlock). Claims and status changes take their locks in one order and do
not deadlock with each other; plan edits that lock every task of an epic (new epic dependencies)
can, with a claim or a completion in that epic, and then simply run again.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

from yokeflow.errors import (
    AlreadyExistsError,
    DatabaseUnavailableError,
    NotFoundError,
    PermanentError,
    TemporaryError,
)

__all__ = ["translate_errors"]

_C = TypeVar("_C", bound=type)

DEADLOCK_ATTEMPTS = 12
"""A deadlock rolls the whole transaction back, so it is retried; under 40 racing workers on two
cores four attempts were seen to run out (claims against an epic-dependency edit)."""


def _detail(exc: asyncpg.PostgresError) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail) if detail else str(exc)


def _translated(name: str, exc: Exception) -> Exception | None:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return AlreadyExistsError(f"{name}: {_detail(exc)}")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFoundError(f"{name}: {_detail(exc)}")
    if isinstance(exc, asyncpg.CheckViolationError | asyncpg.DataError):
        return PermanentError(f"{name}: invalid value ({_detail(exc)})")
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        return TemporaryError(f"{name}: {exc} (retry)")
    if isinstance(
        exc, asyncpg.PostgresConnectionError | asyncpg.ConnectionDoesNotExistError | OSError
    ):
        return DatabaseUnavailableError(f"{name}: lost the connection to the database: {exc}")
    return None


def _wrap(
    name: str, method: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        attempt = 1
        while True:
            try:
                return await method(*args, **kwargs)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                if isinstance(exc, asyncpg.DeadlockDetectedError) and attempt < DEADLOCK_ATTEMPTS:
                    await asyncio.sleep(random.uniform(0.005, 0.02) * 2 ** min(attempt, 6))
                    attempt += 1
                    continue
                ours = _translated(name, exc)
                if ours is None:
                    raise
                raise ours from exc

    return wrapper


def translate_errors(cls: _C) -> _C:
    """Class decorator: wrap every public coroutine method (own or inherited) of ``cls``."""
    for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), classmethod):
            continue  # connect() already says what went wrong, with the URL
        setattr(cls, name, _wrap(name, member))
    return cls
