"""What YokeFlow keeps inside the repository's git common dir (``.git/yokeflow/``).

* ``tasks/<id>.json`` — a task's note: title, branch, folder, port. It outlives the worktree, so
  a worktree found on disk without a ledger record can be adopted with its task id.
* ``journal/<id>.json`` — a merge in flight, written before the integration branch moves and
  removed once the merge is recorded. Found at start, it tells recovery what was under way.
* ``verify/<id>.log`` — the output of a failed verification.

Each file is written to a temporary name, fsynced and renamed, so a kill never leaves half a file;
files are created 0600 and folders 0700 (a verification log may quote anything).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from yokeflow.adapters.private_files import write_private

__all__ = ["JournalEntry", "StateFiles", "TaskNote"]


@dataclass(frozen=True, slots=True)
class TaskNote:
    """What the manager remembers about a task's worktree outside the ledger."""

    task_id: int
    epic_id: int | None
    title: str
    description: str
    branch: str
    path: str
    port: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A merge about to move the integration branch from ``old`` to ``new``."""

    task_id: int
    branch: str
    task_commit: str
    old: str
    new: str
    mode: str
    archive_ref: str | None = None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class StateFiles:
    """The ``yokeflow`` folder of one repository's common dir."""

    def __init__(self, common_dir: Path) -> None:
        self.root = common_dir / "yokeflow"

    @property
    def worktree_lock(self) -> Path:
        return self.root / "worktrees.lock"

    @property
    def merge_lock(self) -> Path:
        return self.root / "merge.lock"

    def save_note(self, note: TaskNote) -> None:
        write_private(self.root / "tasks" / f"{note.task_id}.json", json.dumps(asdict(note)))

    def note(self, task_id: int) -> TaskNote | None:
        data = _read(self.root / "tasks" / f"{task_id}.json")
        return TaskNote(**data) if data else None

    def notes(self) -> list[TaskNote]:
        folder = self.root / "tasks"
        found = [_read(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return [TaskNote(**d) for d in found if d]

    def write_journal(self, entry: JournalEntry) -> None:
        write_private(self.root / "journal" / f"{entry.task_id}.json", json.dumps(asdict(entry)))

    def journal(self) -> list[JournalEntry]:
        folder = self.root / "journal"
        found = [_read(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return [JournalEntry(**d) for d in found if d]

    def clear_journal(self, task_id: int) -> None:
        (self.root / "journal" / f"{task_id}.json").unlink(missing_ok=True)

    def save_verify_log(self, task_id: int, output: str) -> Path:
        path = self.root / "verify" / f"{task_id}.log"
        write_private(path, output)
        return path
