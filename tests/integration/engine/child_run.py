"""A run of the executor in its own process, for the kill -9 test: ``child_run.py URL REPO PROJECT``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from yokeflow.adapters.git import WorktreeManager
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.schedule import Limits
from yokeflow.services.executor import ParallelExecutor
from yokeflow.testing.sessions import EventLog, GitSessions


class PrintingLog(EventLog):
    def publish(self, event: object) -> None:
        print(getattr(event, "kind", "?"), getattr(event, "task", ""), flush=True)


async def main(url: str, repo: str, project: int) -> None:
    async with await PostgresStore.connect(url) as store:
        executor = ParallelExecutor(
            store=store,
            workspace=WorktreeManager(Path(repo), store, project_id=project),
            sessions=GitSessions(delay=0.4),
            project_id=project,
            limits=Limits(max_concurrency=2),
            events=PrintingLog(),
        )
        await executor.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
