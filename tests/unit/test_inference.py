"""Inferred dependency suggestions: offered with reasons, never duplicating or closing a cycle."""

from __future__ import annotations

from yokeflow.core.graph import GraphTask, resolve
from yokeflow.core.inference import layer_of, suggest_dependencies


def test_mentions_and_layering_are_suggested_with_reasons() -> None:
    graph = resolve(
        [
            GraphTask("todo-schema", "db", title="Create the todo schema"),
            GraphTask("todo-api", "api", title="Todo API endpoints"),
            GraphTask(
                "todo-page", "ui", title="Todo page", description="Calls todo-api to list items."
            ),
        ]
    )
    found = {(s.task, s.depends_on): s.reason for s in suggest_dependencies(graph)}
    assert found[("todo-page", "todo-api")] == "its text names task 'todo-api'"
    assert (
        found[("todo-api", "todo-schema")]
        == "api work usually follows schema work on the same subject (todo)"
    )
    assert ("todo-schema", "todo-api") not in found


def test_existing_and_cycle_closing_suggestions_are_dropped() -> None:
    graph = resolve(
        [
            GraphTask("users-schema", "db", title="Users schema", description="Used by users-api."),
            GraphTask("users-api", "api", title="Users API", depends_on=("users-schema",)),
        ]
    )
    assert suggest_dependencies(graph) == []


def test_layers() -> None:
    assert layer_of(GraphTask("x", "e", title="Database migration")) == 0
    assert layer_of(GraphTask("x", "e", title="REST endpoint")) == 1
    assert layer_of(GraphTask("x", "e", title="Login page")) == 2
    assert layer_of(GraphTask("x", "e", title="End-to-end tests")) == 3
    assert layer_of(GraphTask("x", "e", title="Write docs")) is None
