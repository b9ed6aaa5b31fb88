"""Reading a plan file from disk for the commands that take one."""

from __future__ import annotations

from pathlib import Path

from yokeflow.core import gc_pause
from yokeflow.core.plan import Plan, parse_plan
from yokeflow.errors import PlanError

__all__ = ["MAX_PLAN_BYTES", "read_plan"]

MAX_PLAN_BYTES = 64 * 1024 * 1024
"""The largest plan file read (a 100,000-task plan takes about 20 MB); reading stops here, so a
device such as /dev/urandom is refused instead of read forever."""
_FIRST_CHUNK = 64 * 1024  # a binary file is recognised (a NUL byte) before the rest is read


def read_plan(path: Path) -> Plan:
    """Read and parse a plan file; every failure is a :class:`PlanError` naming the file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_FIRST_CHUNK)
            if b"\0" not in data and len(data) == _FIRST_CHUNK:
                data += handle.read(MAX_PLAN_BYTES + 1 - _FIRST_CHUNK)
    except FileNotFoundError:
        raise PlanError(str(path), "", "no such file") from None
    except IsADirectoryError:
        raise PlanError(str(path), "", "is a folder, expected a plan file") from None
    except OSError as exc:
        raise PlanError(str(path), "", f"cannot read: {exc.strerror}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(
            str(path), "", f"larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB, too big for a plan"
        )
    if b"\0" in data:
        raise PlanError(str(path), "", "a binary file, expected a plan (YAML or JSON text)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(
            str(path), "", f"not UTF-8 text (byte {exc.start + 1} cannot be decoded)"
        ) from None
    with gc_pause.paused():
        return parse_plan(text, str(path))
