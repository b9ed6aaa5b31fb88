"""Pictures of a resolved graph: Mermaid for documents and dashboards, ASCII for a terminal.

Both can show a part of the graph: one epic's tasks, one batch's, or one epic's tasks in one batch
(:func:`select`); edges are drawn between the tasks shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from yokeflow.core.graph import DependencyGraph
from yokeflow.errors import NotFoundError

__all__ = ["MERMAID_RESERVED", "select", "to_ascii", "to_mermaid"]

MERMAID_RESERVED = frozenset(
    [
        "end",
        "graph",
        "flowchart",
        "subgraph",
        "direction",
        "style",
        "classdef",
        "class",
        "click",
        "linkstyle",
        "call",
        "href",
        "default",
        "interpolate",
        "callback",
    ]
)
"""Words Mermaid reads as keywords where a node id stands (``end`` closes a subgraph)."""


def select(graph: DependencyGraph, epic: str | None = None, batch: int | None = None) -> list[str]:
    """The keys of the tasks of ``epic`` and/or of batch number ``batch`` (1-based), graph order.

    Raises :class:`~yokeflow.errors.NotFoundError` naming the epic or batch when there is none.
    """
    keys = list(graph.tasks)
    if epic is not None:
        if epic not in graph.epics:
            known = ", ".join(graph.epics) or "none"
            raise NotFoundError(f"no epic {epic!r} in the plan (epics: {known})")
        keys = [k for k in keys if graph.tasks[k].epic == epic]
    if batch is not None:
        if not 1 <= batch <= len(graph.batches):
            raise NotFoundError(
                f"no batch {batch}: the plan has {len(graph.batches)} batches (1-{len(graph.batches)})"
            )
        wanted = set(graph.batches[batch - 1])
        keys = [k for k in keys if k in wanted]
    return keys


def _node_id(key: str, used: dict[str, str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", key)
    if base.lower() in MERMAID_RESERVED:
        base += "_"
    candidate, i = base, 1
    while candidate in used.values():
        i += 1
        candidate = f"{base}_{i}"
    used[key] = candidate
    return candidate


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: DependencyGraph, only: Collection[str] | None = None) -> str:
    """A ``flowchart`` with one subgraph per epic; hard edges solid, soft dotted, epic edges thick.

    The critical path is styled ``critical``; tasks blocked by a cycle are styled ``blocked``.
    ``only`` (from :func:`select`) limits the picture to those tasks and the edges between them.
    """
    shown = set(graph.tasks) if only is None else set(only)
    ids: dict[str, str] = {}
    for key in graph.tasks:
        if key in shown:
            _node_id(key, ids)
    epic_ids: dict[str, str] = {}
    for key in graph.epics:
        epic_ids[key] = _node_id("epic_" + key, ids)
    lines = ["flowchart LR"]
    by_epic: dict[str, list[str]] = {}
    for t in graph.tasks.values():
        if t.key in shown:
            by_epic.setdefault(t.epic, []).append(t.key)
    for epic_key, members in by_epic.items():
        epic = graph.epics[epic_key]
        lines.append(f'  subgraph {epic_ids[epic_key]}["{_label(epic.name or epic.key)}"]')
        for key in members:
            t = graph.tasks[key]
            title = f"{key}: {t.title}" if t.title else key
            lines.append(f'    {ids[key]}["{_label(title)}"]')
        lines.append("  end")
    for t in graph.tasks.values():
        if t.key not in shown:
            continue
        lines.extend(f"  {ids[d]} --> {ids[t.key]}" for d in t.depends_on if d in shown)
        lines.extend(f"  {ids[d]} -.-> {ids[t.key]}" for d in t.soft_depends_on if d in shown)
    for epic in graph.epics.values():
        for d in epic.depends_on:
            if d in epic_ids and epic.key in by_epic and d in by_epic:
                lines.append(f"  {epic_ids[d]} ==> {epic_ids[epic.key]}")
    critical = [k for k in graph.critical_path() if k in shown]
    if critical:
        lines.append("  classDef critical stroke:#d33,stroke-width:3px")
        lines.append(f"  class {','.join(ids[k] for k in critical)} critical")
    blocked = [k for k in graph.blocked if k in shown]
    if blocked:
        lines.append("  classDef blocked fill:#fdd,stroke:#a00")
        lines.append(f"  class {','.join(ids[k] for k in blocked)} blocked")
    return "\n".join(lines) + "\n"


def _minutes(value: float) -> str:
    return f"{value:g}m"


def to_ascii(graph: DependencyGraph, width: int = 100, only: Collection[str] | None = None) -> str:
    """Batches top to bottom, one task a line with its epic, estimate and hard dependencies.

    ``*`` marks the critical path. Problems (cycles, unknown keys) are listed at the end.
    ``only`` (from :func:`select`) limits the listing to those tasks; batches keep their numbers.
    """
    shown = set(graph.tasks) if only is None else set(only)
    critical = set(graph.critical_path())
    key_w = min(max((len(k) for k in graph.tasks if k in shown), default=4), 28)
    epic_w = min(max((len(e) for e in graph.epics), default=4), 16)
    blocked = f" ({len(graph.blocked)} blocked)" if graph.blocked else ""
    out = [
        f"{len(graph.tasks)} tasks in {len(graph.batches)} batches{blocked}; critical path "
        f"{_minutes(graph.critical_path_length())} over {len(critical)} tasks (*)"
    ]
    if only is not None:
        out.append(f"showing {len(shown)} of {len(graph.tasks)} tasks")
    for number, batch in enumerate(graph.batches, start=1):
        members = [k for k in batch if k in shown]
        if not members:
            continue
        out.append("")
        size = f"{len(batch)} tasks in parallel" if len(batch) > 1 else "1 task"
        out.append(f"Batch {number} ({size})")
        for key in members:
            out.append(
                _task_line(graph, key, key_w, epic_w, width, "*" if key in critical else " ")
            )
    stuck = [k for k in graph.blocked if k in shown]
    if stuck:
        out.append("")
        out.append(f"Blocked by a cycle ({len(graph.blocked)})")
        out.extend(_task_line(graph, k, key_w, epic_w, width, "!") for k in stuck)
    problems = graph.problems()
    if problems:
        out.append("")
        out.extend(f"problem: {p}" for p in problems)
    return "\n".join(out) + "\n"


def _task_line(
    graph: DependencyGraph, key: str, key_w: int, epic_w: int, width: int, mark: str
) -> str:
    t = graph.tasks[key]
    deps = sorted(set(t.depends_on))
    epic_deps = graph.epics[t.epic].depends_on if t.epic in graph.epics else ()
    after = ", ".join([*deps, *(f"epic {e}" for e in epic_deps)])
    line = (
        f"  {mark} {key:<{key_w}}  [{t.epic[:epic_w]:<{epic_w}}] {_minutes(t.estimate_minutes):>5}"
    )
    if after:
        line += f"  <- {after}"
    return line if len(line) <= width else line[: width - 1] + "…"
