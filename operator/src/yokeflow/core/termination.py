"""A runner's JSON report as a pod's termination message: always at most 4096 bytes.

Kubernetes keeps at most 4096 bytes of a container's termination message, and the operator reads
the runner's report from there (a cut JSON document is no report at all). :func:`fit_report`
keeps the report whole when it fits and otherwise shortens it on purpose, marked
``"truncated": true``: long strings are cut (saying how long they were) and long lists of details
keep their first items (saying how many there were), while the fields the operator decides on
(:data:`ESSENTIAL_FIELDS`: success, the error, the commits, the cost, the merged and conflicted
tasks…) keep their lists whole; then only those fields remain; only when even they cannot fit
are their lists cut.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["ESSENTIAL_FIELDS", "TERMINATION_MESSAGE_LIMIT", "fit_report", "read_report"]

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
    "pushed",
    "integration_branch",
    "integration_commit",
    "merged",
    "conflicts",
    "epics",
    "tasks_created",
)
"""What the operator decides on (each report kind has some of them): kept as long as anything
is, their lists whole as long as possible (a merged task missing from a list would be taken for
one that was not merged)."""

# (longest string, most list items) tried in turn until the report fits.
_STEPS = ((2000, 50), (600, 20), (200, 8), (80, 3))
_WHOLE = 1_000_000


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


def _shortened(
    report: Mapping[str, Any], max_chars: int, max_items: int, *, others: bool
) -> dict[str, Any]:
    """Essential fields with long strings cut (lists whole); the others shortened, or dropped."""
    out: dict[str, Any] = {}
    for key, value in report.items():
        if key in ESSENTIAL_FIELDS:
            out[key] = _shorten(value, max_chars, _WHOLE)
        elif others:
            out[key] = _shorten(value, max_chars, max_items)
    out["truncated"] = True
    return out


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
    for attempt in _attempts(report):
        text = _encoded(attempt)
        if _size(text) <= limit:
            return text
    return _encoded({"success": bool(report.get("success")), "truncated": True})


def _attempts(report: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Ever shorter forms of ``report``, made one at a time."""
    for max_chars, max_items in _STEPS:
        yield _shortened(report, max_chars, max_items, others=True)
    for max_chars in (200, 60):
        yield _shortened(report, max_chars, 0, others=False)
    # Last resort: even the essential lists are cut (they say how many were left out).
    for max_chars, max_items in ((60, 20), (20, 3), (0, 0)):
        essential = _shortened(report, max_chars, 0, others=False)
        yield {**_shorten(essential, max_chars, max_items), "truncated": True}


def read_report(message: str | None, *, required: str | None = None) -> dict[str, Any] | None:
    """The JSON object a runner left as its termination message, or ``None`` when there is none:
    no message, not JSON (a cut or foreign message), not an object, or without the
    ``required`` field."""
    if not message:
        return None
    try:
        report = json.loads(message)
    except ValueError:
        return None
    if not isinstance(report, dict) or (required is not None and required not in report):
        return None
    return report
