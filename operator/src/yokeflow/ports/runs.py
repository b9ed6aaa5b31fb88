"""The run-control port: start and stop the execution of a project's tasks from outside the CLI.

Local mode implements it with the in-process engine (:mod:`yokeflow.local.run_host`); the API
and the ``yokeflow`` commands reach it through :mod:`yokeflow.services.runs`. A run of the same
project in another process is asked to stop through the store (the cancel flag it polls), so
``cancel`` here only answers for runs this process started.
"""

from __future__ import annotations

from typing import Protocol

from yokeflow.core.records import Project

__all__ = ["RunControl"]


class RunControl(Protocol):
    """Starts a project's run in the background and tells which runs are active here."""

    def active(self, project_id: int) -> bool:
        """Whether this process is running ``project_id`` now."""
        ...

    async def start(self, project: Project) -> None:
        """Run ``project``'s unfinished tasks in the background (it returns at once).

        An :class:`~yokeflow.errors.AlreadyExistsError` when it runs already; a
        :class:`~yokeflow.errors.ConfigError` when the project has no repository to run in.
        """
        ...

    def cancel(self, project_id: int) -> bool:
        """Ask this process's run of ``project_id`` to stop; False when there is none here."""
        ...
