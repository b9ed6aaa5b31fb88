"""A task's type is inferred from its text when the plan gives none; a given type is kept."""

from __future__ import annotations

import pytest

from yokeflow.core.plan import parse_plan
from yokeflow.core.task_types import infer_task_type


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        ("Create the users table", "Add a migration with an index on email", "schema"),
        ("Add REST endpoint for orders", "GET /orders returns JSON", "api"),
        ("Build the login page", "A React component with a form", "ui"),
        ("API test suite", "", "test"),
        ("Hash passwords with bcrypt", "never store plain text", "security"),
        ("Dockerfile for the service", "Build the container in the CI pipeline", "deploy"),
        ("Write the user guide", "How to install and use the app", "docs"),
        ("Tidy things up", "Make it nicer", None),
    ],
)
def test_inferred_types(title: str, description: str, expected: str | None) -> None:
    assert infer_task_type(title, description) == expected


def test_a_plan_task_without_a_type_gets_one_and_a_given_type_wins() -> None:
    plan = parse_plan(
        "name: p\nepics:\n- key: e\n  name: E\n  tasks:\n"
        "  - {key: a, title: Create the orders table, description: a migration}\n"
        "  - {key: b, title: Create the orders table, type: custom}\n"
        "  - {key: c, title: Tidy things up}\n",
        "p.yaml",
    )
    types = {t.key: t.type for _, t in plan.tasks()}
    assert types == {"a": "schema", "b": "custom", "c": None}
