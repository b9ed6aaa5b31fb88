"""The Job gateway port: creating, observing and deleting the Jobs of one namespace.

A cluster-only port: the Kubernetes adapter (``adapters.kube.jobs.KubeJobGateway``) implements
it; services (stopping a run, the cluster launcher) speak to it and never to the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["JobGateway", "JobSight", "JobState"]

JobState = Literal["queued", "pending", "running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class JobSight:
    """One Job as the operator sees it (its own conditions and its newest pod's end)."""

    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: JobState
    """``queued`` is a Job held suspended (by Kueue); the operator never un-suspends it."""
    reason: str | None
    """Why it failed (``BackoffLimitExceeded``, ``DeadlineExceeded``, a pod's reason), if it did."""
    message: str | None
    """The Job controller's message for a failure."""
    exit_code: int | None
    """The exit code of the pod's main container, once it ended."""
    termination_message: str | None
    """What the main container wrote to its termination-message file."""
    created_at: str | None
    finished_at: str | None


class JobGateway(Protocol):
    """The Jobs of one namespace."""

    @property
    def namespace(self) -> str: ...

    async def create(self, manifest: dict[str, Any]) -> bool:
        """Create the Job; True if this call made it, False if it existed already (its name is
        deterministic, so that is the same Job)."""
        ...

    async def observe(self, selector: str) -> list[JobSight]:
        """Every Job matching the label ``selector``."""
        ...

    async def get(self, name: str) -> JobSight | None: ...

    async def delete(self, name: str) -> bool:
        """Delete the Job and its pods; False if it was gone already."""
        ...

    async def annotate(self, name: str, annotations: Mapping[str, str]) -> None: ...
