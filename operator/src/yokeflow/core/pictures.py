"""Pictures of a resolved graph: Mermaid for documents and dashboards, ASCII for a terminal."""

from __future__ import annotations

import re

from yokeflow.core.graph import DependencyGraph

__all__ = ["to_ascii", "to_mermaid"]


def _node_id(key: str, used: dict[str, str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", key)
    candidate, i = base, 1
    while candidate in used.values():
        i += 1
        candidate = f"{base}_{i}"
    used[key] = candidate
    return candidate


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: DependencyGraph) -> str:
    """A ``flowchart`` with one subgraph per epic; hard edges solid, soft dotted, epic edges thick.

    The critical path is styled ``critical``; tasks blocked by a cycle are styled ``blocked``.
    """
    ids: dict[str, str] = {}
    for key in graph.tasks:
        _node_id(key, ids)
    epic_ids: dict[str, str] = {}
    for key in graph.epics:
        epic_ids[key] = _node_id("epic_" + key, ids)
    lines = ["flowchart LR"]
    by_epic: dict[str, list[str]] = {}
    for t in graph.tasks.values():
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
        lines.extend(f"  {ids[d]} --> {ids[t.key]}" for d in t.depends_on if d in ids)
        lines.extend(f"  {ids[d]} -.-> {ids[t.key]}" for d in t.soft_depends_on if d in ids)
    for epic in graph.epics.values():
        for d in epic.depends_on:
            if d in epic_ids and epic.key in by_epic and d in by_epic:
                lines.append(f"  {epic_ids[d]} ==> {epic_ids[epic.key]}")
    critical = graph.critical_path()
    if critical:
        lines.append("  classDef critical stroke:#d33,stroke-width:3px")
        lines.append(f"  class {','.join(ids[k] for k in critical)} critical")
    if graph.blocked:
        lines.append("  classDef blocked fill:#fdd,stroke:#a00")
        lines.append(f"  class {','.join(ids[k] for k in graph.blocked)} blocked")
    return "\n".join(lines) + "\n"


def _minutes(value: float) -> str:
    return f"{value:g}m"


def to_ascii(graph: DependencyGraph, width: int = 100) -> str:
    """Batches top to bottom, one task a line with its epic, estimate and hard dependencies.

    ``*`` marks the critical path. Problems (cycles, unknown keys) are listed at the end.
    """
    critical = set(graph.critical_path())
    key_w = min(max((len(k) for k in graph.tasks), default=4), 28)
    epic_w = min(max((len(e) for e in graph.epics), default=4), 16)
    blocked = f" ({len(graph.blocked)} blocked)" if graph.blocked else ""
    out = [
        f"{len(graph.tasks)} tasks in {len(graph.batches)} batches{blocked}; critical path "
        f"{_minutes(graph.critical_path_length())} over {len(critical)} tasks (*)"
    ]
    for number, batch in enumerate(graph.batches, start=1):
        out.append("")
        size = f"{len(batch)} tasks in parallel" if len(batch) > 1 else "1 task"
        out.append(f"Batch {number} ({size})")
        for key in batch:
            out.append(
                _task_line(graph, key, key_w, epic_w, width, "*" if key in critical else " ")
            )
    if graph.blocked:
        out.append("")
        out.append(f"Blocked by a cycle ({len(graph.blocked)})")
        out.extend(_task_line(graph, k, key_w, epic_w, width, "!") for k in graph.blocked)
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
