"""Stopping a run that is deleted (or cancelled): its unfinished Jobs go, its branches stay.

Every Job the operator makes for a run carries the run's label (``specs.names.common_labels``).
Stopping deletes those that have not finished — running, pending or held by Kueue — so no agent
keeps working for a run that is gone. Finished Jobs are left to their TTL and owner references.
Nothing here touches git: task branches were pushed to the remote by the Jobs themselves and
stay there.
"""

from __future__ import annotations

from yokeflow.ports.jobs import JobGateway
from yokeflow.specs.names import LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY, label_value

__all__ = ["run_selector", "stop_run_jobs"]


def run_selector(run: str) -> str:
    """The label selector of every Job the operator made for ``run``."""
    return f"{LABEL_RUN}={label_value(run)},{LABEL_MANAGED_BY}={MANAGED_BY}"


async def stop_run_jobs(jobs: JobGateway, run: str) -> list[str]:
    """Delete the run's unfinished Jobs; the names of those deleted (idempotent)."""
    stopped: list[str] = []
    for seen in await jobs.observe(run_selector(run)):
        if seen.state in ("succeeded", "failed"):
            continue
        if await jobs.delete(seen.name):
            stopped.append(seen.name)
    return sorted(stopped)
