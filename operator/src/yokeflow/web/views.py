"""Records as JSON: dataclasses to mappings, money as exact decimal strings, times as ISO 8601.

FastAPI's own encoder turns ``Decimal`` into a float; money must stay exact from the SDK's report
to the JSON answer, so the API encodes its records here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from yokeflow.services.board import BoardTask

__all__ = ["board_task_json", "jsonable", "record"]


def jsonable(value: Any) -> Any:
    """``value`` with dataclasses, enums, decimals, dates and paths made JSON-ready."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def record(value: object) -> dict[str, Any]:
    """A record (dataclass) as a JSON object."""
    out = jsonable(value)
    if not isinstance(out, dict):
        raise TypeError(f"{type(value).__name__} is not a record")
    return out


def board_task_json(item: BoardTask) -> dict[str, Any]:
    """A task as the dashboard's card and panel read it."""
    task = item.task
    return {
        **jsonable(task),
        "hard_dependencies": list(task.hard_dependencies),
        "state": item.state.value,
        "epic_key": item.epic_key,
        "cost_usd": str(item.cost_usd),
        "branch": item.branch,
        "worktree_status": item.worktree_status,
        "duration_seconds": item.duration_seconds,
    }
