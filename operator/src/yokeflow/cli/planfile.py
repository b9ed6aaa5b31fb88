"""Reading a plan file from disk for the commands that take one."""

from __future__ import annotations

from pathlib import Path

from yokeflow.core import gc_pause
from yokeflow.core.plan import Plan, parse_plan
from yokeflow.errors import PlanError

__all__ = ["read_plan"]


def read_plan(path: Path) -> Plan:
    """Read and parse a plan file; every failure is a :class:`PlanError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(str(path), "", "no such file") from None
    except IsADirectoryError:
        raise PlanError(str(path), "", "is a folder, expected a plan file") from None
    except UnicodeDecodeError:
        raise PlanError(str(path), "", "not UTF-8 text") from None
    except OSError as exc:
        raise PlanError(str(path), "", f"cannot read: {exc.strerror}") from None
    with gc_pause.paused():
        return parse_plan(text, str(path))
