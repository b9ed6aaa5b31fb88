"""The one place where our errors become kopf's: retryability decides, the message is kept.

A :class:`~yokeflow.errors.TemporaryError` (the API unreachable, a 429, a lost write race) asks
kopf to try the handler again after ``delay`` seconds (the server's Retry-After when it named
one); a :class:`~yokeflow.errors.PermanentError` stops retrying that change. Anything else is a
bug and goes up as it is, so kopf logs it with its traceback and backs off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import kopf

from yokeflow.errors import KubeUnavailableError, PermanentError, TemporaryError

__all__ = ["DEFAULT_RETRY_SECONDS", "kopf_errors"]

DEFAULT_RETRY_SECONDS = 5.0


@contextlib.contextmanager
def kopf_errors() -> Iterator[None]:
    """Run a handler's body with our errors mapped to kopf's."""
    try:
        yield
    except TemporaryError as exc:
        delay = DEFAULT_RETRY_SECONDS
        if isinstance(exc, KubeUnavailableError) and exc.retry_after is not None:
            delay = max(1.0, exc.retry_after)
        raise kopf.TemporaryError(str(exc), delay=delay) from exc
    except PermanentError as exc:
        raise kopf.PermanentError(str(exc)) from exc
