"""Mermaid and ASCII pictures of a resolved graph."""

from __future__ import annotations

from yokeflow.core.graph import GraphEpic, GraphTask, resolve
from yokeflow.core.pictures import to_ascii, to_mermaid


def test_mermaid_has_subgraphs_edges_and_critical_path() -> None:
    text = to_mermaid(
        resolve(
            [
                GraphTask("db-schema", "db", title='The "todo" schema'),
                GraphTask("api", "api", depends_on=("db-schema",)),
                GraphTask("ui", "ui", soft_depends_on=("api",)),
            ],
            [GraphEpic("db", "Database"), GraphEpic("api", "API", depends_on=("db",))],
        )
    )
    assert text.startswith("flowchart LR\n")
    assert '  subgraph epic_db["Database"]' in text
    assert 'db_schema["db-schema: The #quot;todo#quot; schema"]' in text
    assert "  db_schema --> api" in text
    assert "  api -.-> ui" in text
    assert "  epic_db ==> epic_api" in text
    assert "  class db_schema,api critical" in text


def test_ascii_lists_batches_marks_the_critical_path_and_problems() -> None:
    graph = resolve(
        [
            GraphTask("a", "e", estimate_minutes=3),
            GraphTask("b", "e", depends_on=("a",), estimate_minutes=4),
            GraphTask("c", "e"),
            GraphTask("x", "e", depends_on=("y",)),
            GraphTask("y", "e", depends_on=("x",)),
        ]
    )
    text = to_ascii(graph)
    lines = text.splitlines()
    assert lines[0] == "5 tasks in 2 batches (2 blocked); critical path 7m over 2 tasks (*)"
    assert "Batch 1 (2 tasks in parallel)" in lines
    assert any(line.startswith("  * b ") and line.endswith("<- a") for line in lines)
    assert "Blocked by a cycle (2)" in lines
    assert "problem: cycle: x -> y -> x" in lines
    assert all(len(line) <= 100 for line in lines)
