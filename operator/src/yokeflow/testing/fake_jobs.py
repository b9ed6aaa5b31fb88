"""An in-memory Job gateway (``ports.jobs.JobGateway``): Jobs by name with a state the test sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from yokeflow.ports.jobs import JobSight, JobState

__all__ = ["FakeJobGateway"]


class FakeJobGateway:
    """Jobs kept in a dict; ``finish`` moves one to an end state; selectors are ``k=v,k=v``."""

    def __init__(self, namespace: str = "default") -> None:
        self._namespace = namespace
        self.jobs: dict[str, JobSight] = {}
        self.manifests: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []

    @property
    def namespace(self) -> str:
        return self._namespace

    async def create(self, manifest: dict[str, Any]) -> bool:
        meta = manifest["metadata"]
        name = meta["name"]
        if name in self.jobs:
            return False
        self.manifests[name] = manifest
        suspended = bool(manifest.get("spec", {}).get("suspend"))
        self.jobs[name] = JobSight(
            name=name,
            labels=dict(meta.get("labels", {})),
            annotations=dict(meta.get("annotations", {})),
            state="queued" if suspended else "pending",
            reason=None,
            message=None,
            exit_code=None,
            termination_message=None,
            created_at=None,
            finished_at=None,
        )
        return True

    def finish(
        self,
        name: str,
        state: JobState,
        exit_code: int = 0,
        message: str = "",
        reason: str | None = None,
        times: tuple[str, str] | None = None,
    ) -> None:
        """Move a Job to ``state`` with what its pod left (exit code, termination message)."""
        created, finished = times or (None, None)
        self.jobs[name] = replace(
            self.jobs[name],
            state=state,
            exit_code=exit_code,
            termination_message=message or None,
            reason=reason,
            created_at=created,
            finished_at=finished,
        )

    async def observe(self, selector: str) -> list[JobSight]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
        return [
            job
            for job in self.jobs.values()
            if all(job.labels.get(key) == value for key, value in wanted.items())
        ]

    async def get(self, name: str) -> JobSight | None:
        return self.jobs.get(name)

    async def delete(self, name: str) -> bool:
        if self.jobs.pop(name, None) is None:
            return False
        self.deleted.append(name)
        return True

    async def annotate(self, name: str, annotations: Mapping[str, str]) -> None:
        job = self.jobs[name]
        self.jobs[name] = replace(job, annotations={**job.annotations, **annotations})
