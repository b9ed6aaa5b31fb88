"""A process that merges one task and stops dead at a chosen step, for the test to SIGKILL.

Usage: ``python crash_child.py REPO LEDGER_JSON TASK_ID STEP MODE VERIFY ACTION``. It prints
``STEP <name>`` at every step of the merge; at ``STEP`` it prints ``PAUSED`` and waits forever.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.core.merging import MergeMode, Resolution
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger


async def main(
    repo: str, ledger: str, task_id: int, stop_at: str, mode: str, verify: str, action: str
) -> None:
    async def on_step(step: str) -> None:
        print(f"STEP {step}", flush=True)
        if step == stop_at:
            print("PAUSED", flush=True)
            await asyncio.sleep(3600)

    options = WorkspaceOptions(merge_mode=MergeMode(mode), verify_command=verify or None)
    manager = WorktreeManager(
        Path(repo),
        InMemoryWorktreeLedger(Path(ledger)),
        project_id=1,
        options=options,
        on_step=on_step,
    )
    await manager.initialize()
    if action == "merge":
        result = await manager.merge_worktree(task_id)
    else:
        result = await manager.resolve_conflict(task_id, Resolution(action))
    print(f"RESULT {result.status.value}", flush=True)


if __name__ == "__main__":
    repo, ledger, task, step, mode, verify, action = sys.argv[1:8]
    asyncio.run(main(repo, ledger, int(task), step, mode, verify, action))
