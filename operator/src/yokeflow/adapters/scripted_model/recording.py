"""What the scripted model server was asked: kept in memory and, optionally, as JSON lines."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["RecordedRequest", "RequestLog"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered (or refused)."""

    at: float
    """Unix time the request arrived."""
    path: str
    status: int
    """The HTTP status answered."""
    kind: str
    """``turn`` (a conversation's call), ``side`` (no tools offered), ``count_tokens``, ``invalid``."""
    model: str | None = None
    stream: bool = False
    task: str | None = None
    cwd: str | None = None
    prompt: str | None = None
    system: str | None = None
    tools: tuple[str, ...] = ()
    turn: int | None = None
    rule: str | None = None
    """Which rule answered: ``rules[i] (...)``, ``default``, ``… exhausted``."""
    reply: str | None = None
    """What was answered: ``tool Write``, ``text``, ``error 529``, or the problem."""


class RequestLog:
    """A thread-safe list of recorded requests, mirrored to a JSON-lines file when given one."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []
        self._path = path

    def add(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(asdict(item)) + "\n")

    def all(self) -> list[RecordedRequest]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._items)

    def turns(self, task: str | None = None) -> list[RecordedRequest]:
        """The conversation calls (not side requests), optionally of one task only."""
        return [r for r in self.all() if r.kind == "turn" and (task is None or r.task == task)]

    def clear(self) -> None:
        """Forget everything recorded so far (the file is left as it is)."""
        with self._lock:
            self._items.clear()
