"""The one error tree of YokeFlow, split by retryability.

::

    YokeflowError                 every error we raise on purpose; carries a user-facing message
    ├── PermanentError            retrying the same call cannot help (bad input, illegal state)
    │   ├── ConfigError           a setting is unknown or has a bad value
    │   ├── PlanError             a plan file cannot be read, or is not a valid plan
    │   ├── ScenarioError         a scripted-model scenario file is not valid
    │   ├── PromptError           a prompt template is missing, broken, or lacks a variable
    │   ├── InvalidTransitionError a status change that the state machine forbids
    │   ├── NotFoundError         a record (project, task, batch…) does not exist
    │   ├── AlreadyExistsError    a record with that key (epic, task, batch number…) exists already
    │   ├── BudgetExhaustedError  the run's budget cannot cover the next agent; nothing more starts
    │   ├── MigrationError        the database schema cannot be brought up to date
    │   ├── CrdGenerationError    a custom-resource model has no structural-schema form
    │   ├── UndocumentedFieldError a settings or values field has no description to document
    │   ├── WorktreeConflictError a merge would conflict; the branch is kept, the files are listed
    │   └── KubeRejectedError     the Kubernetes API refused a request for good (invalid, forbidden,
    │                             not found, already exists); ``reason`` says which
    └── TemporaryError            the same call may succeed later (a lock, a network blip)
        ├── AgentError            an agent session could not be started or run to a result
        ├── GitCommandError       a git command failed or timed out (command, exit code, stderr)
        ├── DatabaseUnavailableError the database cannot be reached (URL shown, password hidden)
        ├── TaskManagerUnavailableError the MCP task manager did not take a runner's report
        └── KubeUnavailableError  the Kubernetes API could not answer now (unreachable, 429, 5xx,
                                  a write conflict); ``retry_after`` when the server named one

Adapters wrap third-party errors with ``raise X(...) from exc``; entry points print
``str(error)`` and exit non-zero, so a user never sees a bare traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AgentError",
    "AlreadyExistsError",
    "BudgetExhaustedError",
    "ConfigError",
    "CrdGenerationError",
    "DatabaseUnavailableError",
    "GitCommandError",
    "InvalidTransitionError",
    "KubeRejectedError",
    "KubeUnavailableError",
    "MigrationError",
    "NotFoundError",
    "PermanentError",
    "PlanError",
    "PromptError",
    "ScenarioError",
    "TaskManagerUnavailableError",
    "TemporaryError",
    "UndocumentedFieldError",
    "WorktreeConflictError",
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


class WorktreeConflictError(PermanentError):
    """Merging would conflict: nothing was changed, the task branch is kept.

    ``conflicts`` lists ``(path, kind)`` pairs, e.g. ``("src/app.py", "content")``.
    """

    def __init__(self, branch: str, conflicts: Sequence[tuple[str, str]], detail: str = "") -> None:
        self.branch = branch
        self.conflicts = tuple(conflicts)
        files = ", ".join(f"{path} ({kind})" for path, kind in self.conflicts) or "unknown files"
        super().__init__(f"{branch} conflicts in {files}" + (f": {detail}" if detail else ""))


class GitCommandError(TemporaryError):
    """A git command exited non-zero or timed out (``exit_code`` is None after a timeout).

    Temporary because git fails for passing reasons (a lock file, a concurrent worktree
    operation, a slow disk); callers that know better catch it and decide.
    """

    def __init__(self, command: Sequence[str], exit_code: int | None, stderr: str) -> None:
        self.command = tuple(command)
        self.exit_code = exit_code
        self.stderr = stderr
        shown = " ".join(self.command)
        status = "timed out" if exit_code is None else f"exited {exit_code}"
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(f"`{shown}` {status}: {last}")


class NotFoundError(PermanentError):
    """A record (project, epic, task, batch, worktree…) that an operation needs does not exist."""


class BudgetExhaustedError(PermanentError):
    """The run's budget cannot cover the next agent: nothing more starts, running agents finish."""


class AlreadyExistsError(PermanentError):
    """A record with that key (an epic or task key, a batch number…) exists already."""


class MigrationError(PermanentError):
    """The database schema cannot be brought up to date (a failed or edited migration)."""


class CrdGenerationError(PermanentError):
    """A custom-resource model has no Kubernetes structural-schema form; the message names the field."""


class UndocumentedFieldError(PermanentError):
    """A settings or chart-values field has no docstring, so its reference cannot be written."""


class DatabaseUnavailableError(TemporaryError):
    """The database cannot be reached or does not exist; the message shows the URL, password hidden."""


class TaskManagerUnavailableError(TemporaryError):
    """The MCP task manager could not be reached over HTTP, or refused a runner's report; the
    message names the URL and the server's answer."""


class ScenarioError(PermanentError):
    """A scripted-model scenario file cannot be read or is not valid; the message says where."""


class PromptError(PermanentError):
    """A prompt template is missing, cannot be parsed, or uses a variable it was not given."""


class AgentError(TemporaryError):
    """An agent session could not be started or ended without a result (the CLI died, say)."""


class KubeRejectedError(PermanentError):
    """The Kubernetes API refused a request, and the same request would be refused again.

    ``status`` is the HTTP status and ``reason`` the API's own word for it (``NotFound``,
    ``AlreadyExists``, ``Invalid``, ``Forbidden``, ``Gone``…), so callers can treat an expected
    refusal (a Job that already exists) as the success it is.
    """

    def __init__(self, method: str, path: str, status: int, reason: str, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        super().__init__(f"{method} {path} was refused ({status} {reason}): {message}")


class KubeUnavailableError(TemporaryError):
    """The Kubernetes API could not answer now: unreachable, throttling (429), failing (5xx), or a
    write lost a race (409 Conflict). ``retry_after`` holds the server's Retry-After in seconds."""

    def __init__(
        self, method: str, path: str, status: int | None, message: str, retry_after: float | None
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.retry_after = retry_after
        shown = "unreachable" if status is None else f"answered {status}"
        super().__init__(f"{method} {path}: the Kubernetes API {shown}: {message}")
