"""An in-memory list of todos."""

from __future__ import annotations

from todo.model import Todo
from todo.validate import validate_title


class TodoStore:
    """Todos by id; ids are never reused."""

    def __init__(self, items: list[Todo] | None = None) -> None:
        self._items: dict[int, Todo] = {t.id: t for t in items or []}
        self._next = max(self._items, default=0) + 1

    def add(self, title: str, priority: int = 2) -> Todo:
        item = Todo(self._next, validate_title(title), priority)
        self._items[item.id] = item
        self._next += 1
        return item

    def get(self, todo_id: int) -> Todo:
        try:
            return self._items[todo_id]
        except KeyError:
            raise KeyError(f"no todo #{todo_id}") from None

    def complete(self, todo_id: int) -> Todo:
        item = self.get(todo_id)
        item.done = True
        return item

    def remove(self, todo_id: int) -> None:
        self.get(todo_id)
        del self._items[todo_id]

    def all(self) -> list[Todo]:
        return [self._items[k] for k in sorted(self._items)]
