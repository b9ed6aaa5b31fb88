"""Transcript files (one JSON object a line, written by the agent adapter), read page by page."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from yokeflow.errors import NotFoundError
from yokeflow.ports.review import TranscriptPage

__all__ = ["TranscriptFiles"]


def _message(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:  # a line being written right now, or a damaged one
        return {"type": "unreadable", "text": line[:2000]}
    return value if isinstance(value, dict) else {"type": "value", "value": value}


def _read(path: Path, offset: int, limit: int) -> TranscriptPage:
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            page: list[dict[str, Any]] = []
            total = 0
            for line in lines:
                if not line.endswith("\n"):
                    break  # the line the session is writing right now
                if offset <= total < offset + limit:
                    page.append(_message(line))
                total += 1
    except FileNotFoundError:
        raise NotFoundError(f"the transcript {path} does not exist (any more)") from None
    return TranscriptPage(tuple(page), offset, total)


class TranscriptFiles:
    """Implements :class:`~yokeflow.ports.review.TranscriptReader` on the local file system."""

    async def page(self, path: Path, offset: int, limit: int) -> TranscriptPage:
        return await asyncio.to_thread(_read, path, offset, limit)
