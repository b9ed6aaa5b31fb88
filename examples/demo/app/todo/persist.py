"""Keeping a TodoStore in a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from todo.model import Todo
from todo.store import TodoStore


def save(store: TodoStore, path: Path) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps([t.to_dict() for t in store.all()], indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def load(path: Path) -> TodoStore:
    """The store saved at ``path``; an empty one when the file does not exist yet."""
    if not path.exists():
        return TodoStore()
    return TodoStore([Todo.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))])
