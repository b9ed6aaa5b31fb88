"""Finding todos."""

from __future__ import annotations

from todo.model import Todo


def filter_todos(items: list[Todo], *, done: bool | None = None, text: str = "") -> list[Todo]:
    """Items matching the done state (None: any) whose title contains ``text`` (any case)."""
    needle = text.lower()
    return [t for t in items if (done is None or t.done == done) and needle in t.title.lower()]
