"""The events of this process's runs, numbered per project, kept for replay after a reconnect.

A WebSocket client that lost its connection reconnects with the last sequence number it saw and
gets every later event from the buffer; one whose number is older than the buffer (or from
another process, told apart by ``epoch``) gets a fresh snapshot instead. So no event is lost
between a snapshot and the stream, and none is lost across a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from yokeflow.core.events import Event, to_json

__all__ = ["EventLog", "ProjectSink"]


@dataclass
class _Stream:
    entries: deque[dict[str, Any]]
    last: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class EventLog:
    """Numbered events per project, the last ``capacity`` of each kept in memory."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.epoch = secrets.token_hex(6)
        """Names this process's numbering: a client from another epoch needs a snapshot."""
        self._streams: dict[int, _Stream] = {}
        self._listeners: list[Any] = []

    def _stream(self, project_id: int) -> _Stream:
        stream = self._streams.get(project_id)
        if stream is None:
            stream = self._streams[project_id] = _Stream(deque(maxlen=self.capacity))
        return stream

    def sink(self, project_id: int) -> ProjectSink:
        """The :class:`~yokeflow.ports.events.EventSink` of one project's runs."""
        return ProjectSink(self, project_id)

    def add_listener(self, listener: Any) -> None:
        """Something else that sees every event (the metrics): ``listener(project_id, event)``."""
        self._listeners.append(listener)

    def publish(self, project_id: int, event: Event) -> int:
        """Number and keep ``event``; wakes every client waiting on the project. Never blocks."""
        stream = self._stream(project_id)
        stream.last += 1
        stream.entries.append({"seq": stream.last, "event": to_json(event)})
        stream.changed.set()
        stream.changed = asyncio.Event()
        for listener in self._listeners:
            listener(project_id, event)
        return stream.last

    def last_seq(self, project_id: int) -> int:
        return self._stream(project_id).last

    def since(self, project_id: int, seq: int) -> list[dict[str, Any]] | None:
        """Every kept event after ``seq``; None when some of them are gone (or ``seq`` is unknown)."""
        stream = self._stream(project_id)
        if seq > stream.last or seq < 0:
            return None
        if not stream.entries:
            return []
        first = stream.entries[0]["seq"]
        if seq + 1 < first:
            return None
        return [e for e in stream.entries if e["seq"] > seq]

    async def wait(self, project_id: int, seq: int, limit: float) -> None:
        """Return when an event after ``seq`` exists, or after ``limit`` seconds."""
        stream = self._stream(project_id)
        if stream.last > seq:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await stream.changed.wait()


@dataclass(frozen=True)
class ProjectSink:
    """Publishes one project's events into the log (what the executor is given)."""

    log: EventLog
    project_id: int

    def publish(self, event: Event) -> None:
        self.log.publish(self.project_id, event)
