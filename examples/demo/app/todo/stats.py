"""Counting todos."""

from __future__ import annotations

from dataclasses import dataclass

from todo.model import Todo


@dataclass(frozen=True)
class Stats:
    total: int
    done: int

    @property
    def share_done(self) -> float:
        return self.done / self.total if self.total else 0.0


def stats(items: list[Todo]) -> Stats:
    return Stats(total=len(items), done=sum(1 for t in items if t.done))
