"""Mermaid and ASCII pictures of a resolved graph."""

from __future__ import annotations

from yokeflow.core.graph import DependencyGraph, GraphEpic, GraphTask, resolve
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


def test_mermaid_reserved_words_as_task_keys_keep_the_picture_valid() -> None:
    from yokeflow.core.pictures import MERMAID_RESERVED

    keys = ["end", "End", "graph", "subgraph", "style", "class", "click", "default"]
    graph = resolve(
        [GraphTask(k, "e", depends_on=(keys[i - 1],) if i else ()) for i, k in enumerate(keys)],
        [GraphEpic("e", "Epic")],
    )
    text = to_mermaid(graph)
    ids = set()
    for line in text.splitlines():
        stripped = line.strip()
        if "-->" in stripped:
            left, right = (side.strip() for side in stripped.split("-->"))
            ids.update((left, right))
    assert ids
    assert not {i.lower() for i in ids} & MERMAID_RESERVED
    # exactly one `end` per subgraph: a task named end no longer closes it early
    assert sum(1 for line in text.splitlines() if line.strip() == "end") == 1
    assert '["end"]' in text


def _plan_graph() -> DependencyGraph:
    return resolve(
        [
            GraphTask("schema", "db", title="Schema"),
            GraphTask("seed", "db", depends_on=("schema",)),
            GraphTask("orders", "api", depends_on=("schema",)),
            GraphTask("carts", "api", depends_on=("orders",)),
            GraphTask("page", "ui", depends_on=("carts",)),
        ],
        [GraphEpic("db", "Database"), GraphEpic("api", "API"), GraphEpic("ui", "UI")],
    )


def test_pictures_of_one_epic_or_one_batch() -> None:
    from yokeflow.core.pictures import select

    graph = _plan_graph()
    api = select(graph, epic="api")
    assert api == ["orders", "carts"]
    mermaid = to_mermaid(graph, only=api)
    assert "orders --> carts" in mermaid
    assert "schema" not in mermaid
    assert "subgraph epic_db" not in mermaid
    second = select(graph, batch=2)
    assert set(second) == {"seed", "orders"}
    text = to_ascii(graph, only=second)
    assert "Batch 2 (2 tasks in parallel)" in text
    assert "Batch 1" not in text
    assert "showing 2 of 5 tasks" in text
    assert select(graph, epic="api", batch=2) == ["orders"]


def test_an_unknown_epic_or_batch_is_named() -> None:
    import pytest

    from yokeflow.core.pictures import select
    from yokeflow.errors import NotFoundError

    graph = _plan_graph()
    with pytest.raises(NotFoundError, match="no epic 'apx' in the plan"):
        select(graph, epic="apx")
    with pytest.raises(NotFoundError, match="no batch 9: the plan has 4 batches"):
        select(graph, batch=9)
    with pytest.raises(NotFoundError, match="no batch 0"):
        select(graph, batch=0)
