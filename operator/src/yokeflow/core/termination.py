"""A runner's JSON report as a pod's termination message: always at most 4096 bytes.

Kubernetes keeps at most 4096 bytes of a container's termination message, and the operator reads
the runner's report from there (a cut JSON document is no report at all). :func:`fit_report`
keeps the report whole when it fits and otherwise shortens it on purpose: long strings are cut
(saying how long they were), long lists keep their first items (saying how many there were),
and in the end only the fields the operator decides on remain — success, the stage, the error,
the commits and the cost — with ``"truncated": true``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ESSENTIAL_FIELDS", "TERMINATION_MESSAGE_LIMIT", "fit_report"]

TERMINATION_MESSAGE_LIMIT = 4096
"""Bytes of a container's termination message that Kubernetes keeps."""

ESSENTIAL_FIELDS = (
    "task",
    "success",
    "stage",
    "error",
    "commit",
    "base_commit",
    "cost_usd",
    "cost_recorded",
    "session_id",
    "merged",
    "conflicted",
    "integration_commit",
    "epics",
    "tasks",
)
"""What is kept when nothing else fits (each report kind has some of them)."""

# (longest string, most list items) tried in turn until the report fits.
_STEPS = ((2000, 50), (600, 20), (200, 8), (80, 3))


def _shorten(value: Any, max_chars: int, max_items: int) -> Any:
    if isinstance(value, str):
        if len(value) <= max_chars:
            return value
        return f"{value[:max_chars]}… ({len(value)} characters)"
    if isinstance(value, Mapping):
        return {str(k): _shorten(v, max_chars, max_items) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [_shorten(v, max_chars, max_items) for v in list(value)[:max_items]]
        if len(value) > max_items:
            items.append(f"… {len(value) - max_items} more")
        return items
    return value


def _encoded(data: Any, *, indent: int | None = None) -> str:
    separators = None if indent is not None else (",", ":")
    return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False, default=str)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_report(report: Mapping[str, Any], limit: int = TERMINATION_MESSAGE_LIMIT) -> str:
    """``report`` as JSON text of at most ``limit`` bytes (UTF-8), shortened only when needed."""
    whole = _encoded(report, indent=2)
    if _size(whole) <= limit:
        return whole
    compact = _encoded(report)
    if _size(compact) <= limit:
        return compact
    for max_chars, max_items in _STEPS:
        shortened = {**_shorten(report, max_chars, max_items), "truncated": True}
        text = _encoded(shortened)
        if _size(text) <= limit:
            return text
    essential = {k: report[k] for k in ESSENTIAL_FIELDS if k in report}
    for max_chars, max_items in ((200, 8), (60, 3), (20, 1), (0, 0)):
        text = _encoded({**_shorten(essential, max_chars, max_items), "truncated": True})
        if _size(text) <= limit:
            return text
    return _encoded({"success": bool(report.get("success")), "truncated": True})
