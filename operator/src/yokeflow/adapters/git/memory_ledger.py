"""An in-memory :class:`~yokeflow.ports.WorktreeLedger`, optionally saved to a JSON file.

It behaves like the ``worktrees`` table: one record per ``(project_id, branch)``, ids from 1.
With ``path`` every change is written through (atomically) and read back on construction, so a
process that is killed and started again finds its records — what crash tests need. A merge
Job's pod, which has no database, keeps its merges' records here for its own lifetime (what they
came to goes into its report), and tests use it as the ledger's fake.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.ports.workspace import WorktreeLedger

__all__ = ["InMemoryWorktreeLedger"]


class InMemoryWorktreeLedger:
    """Worktree records in a dict (and in ``path`` when given)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._records: dict[int, WorktreeRecord] = {}
        if path is not None and path.exists():
            for raw in json.loads(path.read_text(encoding="utf-8")):
                record = _from_json(raw)
                self._records[record.id] = record

    async def create_worktree(
        self,
        project_id: int,
        *,
        task_id: int | None,
        epic_id: int | None,
        branch: str,
        path: str,
        base_commit: str | None,
    ) -> WorktreeRecord:
        now = datetime.now(UTC)
        for record in self._records.values():
            if record.project_id == project_id and record.branch == branch:
                updated = replace(
                    record,
                    task_id=task_id,
                    epic_id=epic_id,
                    path=path,
                    base_commit=base_commit if base_commit is not None else record.base_commit,
                    status=WorktreeStatus.ACTIVE,
                    conflicts=(),
                    updated_at=now,
                )
                return self._store(updated)
        record = WorktreeRecord(
            id=max(self._records, default=0) + 1,
            project_id=project_id,
            task_id=task_id,
            epic_id=epic_id,
            branch=branch,
            path=path,
            status=WorktreeStatus.ACTIVE,
            base_commit=base_commit,
            created_at=now,
            updated_at=now,
        )
        return self._store(record)

    async def get_worktree(self, worktree_id: int) -> WorktreeRecord | None:
        return self._records.get(worktree_id)

    async def get_worktree_by_task(self, project_id: int, task_id: int) -> WorktreeRecord | None:
        found = [
            r for r in self._records.values() if r.project_id == project_id and r.task_id == task_id
        ]
        return max(found, key=lambda r: r.id) if found else None

    async def get_worktree_by_epic(self, project_id: int, epic_id: int) -> list[WorktreeRecord]:
        return sorted(
            (
                r
                for r in self._records.values()
                if r.project_id == project_id and r.epic_id == epic_id
            ),
            key=lambda r: r.id,
        )

    async def list_worktrees(
        self, project_id: int, status: WorktreeStatus | None = None
    ) -> list[WorktreeRecord]:
        return sorted(
            (
                r
                for r in self._records.values()
                if r.project_id == project_id and (status is None or r.status is status)
            ),
            key=lambda r: r.id,
        )

    async def update_worktree_status(
        self,
        worktree_id: int,
        status: WorktreeStatus,
        *,
        merge_commit: str | None = None,
        conflicts: Sequence[ConflictFile] = (),
    ) -> WorktreeRecord:
        record = self._require(worktree_id)
        return self._store(
            replace(
                record,
                status=status,
                merge_commit=merge_commit if merge_commit is not None else record.merge_commit,
                conflicts=tuple(conflicts),
                updated_at=datetime.now(UTC),
            )
        )

    async def mark_worktree_merged(self, worktree_id: int, merge_commit: str) -> WorktreeRecord:
        record = self._require(worktree_id)
        return self._store(
            replace(
                record,
                status=WorktreeStatus.MERGED,
                merge_commit=merge_commit,
                conflicts=(),
                updated_at=datetime.now(UTC),
            )
        )

    def _require(self, worktree_id: int) -> WorktreeRecord:
        record = self._records.get(worktree_id)
        if record is None:
            raise KeyError(f"no worktree record {worktree_id}")
        return record

    def _store(self, record: WorktreeRecord) -> WorktreeRecord:
        self._records[record.id] = record
        if self._path is not None:
            data = json.dumps([_to_json(r) for r in self._records.values()], indent=1)
            tmp = self._path.with_name(self._path.name + ".tmp")
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        return record


def _to_json(record: WorktreeRecord) -> dict[str, Any]:
    data = asdict(record)
    data["status"] = record.status.value
    data["conflicts"] = [[c.path, c.kind] for c in record.conflicts]
    for key in ("created_at", "updated_at"):
        value = getattr(record, key)
        data[key] = value.isoformat() if value is not None else None
    return data


def _from_json(data: dict[str, Any]) -> WorktreeRecord:
    stamps = {
        key: datetime.fromisoformat(data[key]) if data.get(key) else None
        for key in ("created_at", "updated_at")
    }
    return WorktreeRecord(
        id=data["id"],
        project_id=data["project_id"],
        task_id=data["task_id"],
        epic_id=data["epic_id"],
        branch=data["branch"],
        path=data["path"],
        status=WorktreeStatus(data["status"]),
        base_commit=data["base_commit"],
        merge_commit=data["merge_commit"],
        conflicts=tuple(ConflictFile(path=p, kind=k) for p, k in data["conflicts"]),
        created_at=stamps["created_at"],
        updated_at=stamps["updated_at"],
    )


def _implements_the_port(ledger: InMemoryWorktreeLedger) -> WorktreeLedger:
    return ledger  # mypy checks here that it satisfies the WorktreeLedger protocol
