"""What the learning and cost decisions need to know about one task, independent of its source.

A :class:`TaskBrief` is built from a stored task (:func:`brief_of`), from a plan task, or by hand in
tests; classification, complexity, model choice and prompt formatting all read only this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yokeflow.core.records import Epic, Task

__all__ = ["TaskBrief", "brief_of", "words"]

_PATH = re.compile(
    r"(?:[\w.-]+/)+[\w.-]+|[\w-]+\.(?:py|ts|tsx|js|jsx|sql|go|rs|css|html|vue|ya?ml|toml|json|md|sh)\b"
)
_SUFFIX = re.compile(r"\.(?:py|ts|tsx|js|jsx|sql|go|rs|css|html|vue|ya?ml|toml|json|md|sh)\b")
"""Every match of ``_PATH`` has a ``/`` or this: a text with neither is not scanned for paths."""
_WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass(frozen=True, slots=True)
class TaskBrief:
    """The text and shape of one task."""

    key: str
    title: str
    description: str = ""
    files: tuple[str, ...] = ()
    """Paths the task names or is known to touch (repository-relative)."""
    task_type: str | None = None
    epic_priority: int | None = None
    """The priority of the task's epic (lower runs first; plans commonly use 0–3)."""
    dependency_count: int = 0
    estimate_minutes: float = 1.0
    pinned_model: str | None = None
    """The model the plan pins on the task (a tier name or a model id), chosen over every rule."""

    @property
    def text(self) -> str:
        """Title and description together."""
        return f"{self.title}\n{self.description}"

    def all_files(self) -> tuple[str, ...]:
        """The known files plus the paths written in the task's text, without repeats."""
        seen = dict.fromkeys(self.files)
        text = self.text
        if "/" not in text and _SUFFIX.search(text) is None:
            return tuple(seen)
        for match in _PATH.finditer(text):
            seen.setdefault(match.group(0).strip("./") or match.group(0), None)
        return tuple(seen)


def brief_of(task: Task, epic: Epic | None = None, files: Sequence[str] = ()) -> TaskBrief:
    """The brief of a stored task (and its epic, whose priority the model choice may use)."""
    return TaskBrief(
        key=task.key,
        title=task.title,
        description=task.description,
        files=tuple(files),
        task_type=task.task_type,
        epic_priority=None if epic is None else epic.priority,
        dependency_count=len(task.depends_on) + len(task.soft_depends_on),
        estimate_minutes=task.estimate_minutes,
        pinned_model=task.pinned_model,
    )


def words(text: str) -> list[str]:
    """Lower-case words of at least two characters, in order (what keyword scoring reads)."""
    return _WORD.findall(text.lower())
