"""The one error tree of YokeFlow, split by retryability.

::

    YokeflowError                 every error we raise on purpose; carries a user-facing message
    ├── PermanentError            retrying the same call cannot help (bad input, illegal state)
    │   ├── ConfigError           a setting is unknown or has a bad value
    │   ├── PlanError             a plan file cannot be read, or is not a valid plan
    │   └── InvalidTransitionError a status change that the state machine forbids
    └── TemporaryError            the same call may succeed later (a lock, a network blip)

Adapters wrap third-party errors with ``raise X(...) from exc``; entry points print
``str(error)`` and exit non-zero, so a user never sees a bare traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InvalidTransitionError",
    "PermanentError",
    "PlanError",
    "TemporaryError",
    "YokeflowError",
]


class YokeflowError(Exception):
    """Root of every error YokeFlow raises on purpose; ``str()`` is the user-facing message."""

    retryable: bool = False


class PermanentError(YokeflowError):
    """Retrying the same operation cannot succeed."""


class TemporaryError(YokeflowError):
    """The same operation may succeed if retried later."""

    retryable = True


class ConfigError(PermanentError):
    """A setting is unknown or has a bad value; the message names the key and its source."""


class PlanError(PermanentError):
    """A plan file cannot be read or is not a valid plan.

    The message names the file, the location inside it and what was expected.
    """

    def __init__(self, source: str, location: str, problem: str) -> None:
        self.source = source
        self.location = location
        self.problem = problem
        where = f"{source}: {location}" if location else source
        super().__init__(f"{where}: {problem}")


class InvalidTransitionError(PermanentError):
    """A task or batch status change that the state machine forbids."""
