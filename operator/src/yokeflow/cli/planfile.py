"""Reading a plan file from disk for the commands that take one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from yokeflow.core import gc_pause, plan_outline, plan_text
from yokeflow.core.graph import DependencyGraph, graph_from_plan, resolve
from yokeflow.errors import PlanError

if TYPE_CHECKING:
    from yokeflow.core.plan import Plan

__all__ = ["MAX_PLAN_BYTES", "read_plan", "read_plan_graph"]

MAX_PLAN_BYTES = 64 * 1024 * 1024
"""The largest plan file read (a 100,000-task plan takes about 20 MB); reading stops here, so a
device such as /dev/urandom is refused instead of read forever."""
_FIRST_CHUNK = 64 * 1024  # a binary file is recognised (a NUL byte) before the rest is read


def read_plan(path: Path) -> Plan:
    """Read and parse a plan file; every failure is a :class:`PlanError` naming the file."""
    from yokeflow.core.plan import parse_plan  # the models: see read_plan_graph

    text = _read_text(path)
    with gc_pause.paused():
        return parse_plan(text, str(path))


def read_plan_graph(path: Path) -> DependencyGraph:
    """Read a plan file and resolve its graph; every failure is a :class:`PlanError`.

    A plainly valid plan is resolved from its outline, without the plan's models (importing and
    running them costs more than resolving 10,000 tasks); anything else goes through the models,
    which name the problem exactly as :func:`read_plan` does.
    """
    text = _read_text(path)
    source = str(path)
    with gc_pause.paused():
        data = plan_text.load(text, source)
        outlined = plan_outline.outline(data)
        if outlined is not None:
            return resolve(*outlined)
        from yokeflow.core.plan import plan_from_data

        return graph_from_plan(plan_from_data(data, text, source))


def _read_text(path: Path) -> str:
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
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(
            str(path), "", f"not UTF-8 text (byte {exc.start + 1} cannot be decoded)"
        ) from None
