"""The to-do item."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Todo:
    """One thing to do. Priority 1 is high, 3 is low."""

    id: int
    title: str
    priority: int = 2
    done: bool = False

    def __post_init__(self) -> None:
        if self.priority not in (1, 2, 3):
            raise ValueError(f"priority must be 1, 2 or 3, not {self.priority}")

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "priority": self.priority, "done": self.done}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Todo:
        return cls(
            id=int(data["id"]),  # type: ignore[arg-type]
            title=str(data["title"]),
            priority=int(data.get("priority", 2)),  # type: ignore[arg-type]
            done=bool(data.get("done", False)),
        )
