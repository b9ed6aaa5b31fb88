"""The event bus port: where a run's progress events go (terminal view, WebSocket, metrics)."""

from __future__ import annotations

from typing import Protocol

from yokeflow.core.events import Event

__all__ = ["EventSink"]


class EventSink(Protocol):
    """Receives every event of a run, in order. Must not block: slow consumers buffer."""

    def publish(self, event: Event) -> None: ...
