"""Ordering todos."""

from __future__ import annotations

from todo.model import Todo


def sort_todos(items: list[Todo]) -> list[Todo]:
    """Open items first, then by priority (1 first), then by title."""
    return sorted(items, key=lambda t: (t.done, t.priority, t.title.lower()))
