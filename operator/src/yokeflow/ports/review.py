"""The review port: what a person reads about a task's work — its transcript and its diff."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["DiffReader", "TranscriptPage", "TranscriptReader"]


@dataclass(frozen=True, slots=True)
class TranscriptPage:
    """Some messages of a session's transcript (one JSON object per message)."""

    messages: tuple[dict[str, Any], ...]
    offset: int
    """The index of the first message of this page."""
    total: int
    """How many messages the transcript holds now (it grows while the session runs)."""


class TranscriptReader(Protocol):
    """Reads a transcript file written by the agent adapter."""

    async def page(self, path: Path, offset: int, limit: int) -> TranscriptPage:
        """Messages ``offset``..``offset+limit`` of ``path``; a missing file is NotFoundError."""
        ...


class DiffReader(Protocol):
    """Diffs of task branches in a repository."""

    async def branch_diff(self, repo: Path, base: str, head: str) -> str:
        """The unified diff of ``head`` (a branch or commit) against its merge base with ``base``."""
        ...

    async def landed_diff(self, repo: Path, commit: str) -> str:
        """What a landed merge (or squash) commit brought in: its task side against its base."""
        ...
