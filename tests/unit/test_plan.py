"""Plan files: valid ones parse; malformed ones name the file, the place and what was expected."""

from __future__ import annotations

import pytest

from yokeflow.core.graph import graph_from_plan
from yokeflow.core.plan import parse_plan
from yokeflow.errors import PlanError

GOOD = """\
name: demo
epics:
  - key: db
    name: Database
    tasks:
      - key: db-schema
        title: Schema
      - key: db-seed
        title: Seed
        depends_on: [db-schema, {key: db-extra, type: soft}]
      - key: db-extra
        title: Extra
"""


def test_a_valid_plan_parses_with_typed_dependencies() -> None:
    plan = parse_plan(GOOD, "plan.yaml")
    seed = plan.epics[0].tasks[1]
    assert [(d.key, d.type) for d in seed.dependencies()] == [
        ("db-schema", "hard"),
        ("db-extra", "soft"),
    ]
    graph = graph_from_plan(plan)
    assert graph.batches == (("db-extra", "db-schema"), ("db-seed",))
    assert graph.task_order == ("db-extra", "db-schema", "db-seed")


def test_json_plans_parse_too() -> None:
    text = (
        '{"name": "x", "epics": [{"key": "e", "name": "E", "tasks": [{"key": "t", "title": "T"}]}]}'
    )
    assert parse_plan(text, "plan.json").epics[0].tasks[0].key == "t"


@pytest.mark.parametrize(
    ("text", "source", "expected"),
    [
        (
            "name: [unclosed",
            "p.yaml",
            "p.yaml: line 1, column 16: invalid YAML: expected ',' or ']'",
        ),
        ('{"name": ', "p.json", "p.json: line 1, column 10: invalid JSON"),
        (
            "- a\n- b\n",
            "p.yaml",
            "p.yaml: top level: expected a mapping with 'name' and 'epics', got a list",
        ),
        ("", "p.yaml", "got an empty document"),
        ("name: x\nepics: []\n", "p.yaml", "line 2 (epics): list should have at least 1 item"),
        (
            "name: x\nepics:\n  - key: e\n    name: E\n    tasks:\n      - key: t\n        titel: T\n",
            "p.yaml",
            "p.yaml: line 7 (epics[0].tasks[0].titel): unknown field 'titel'",
        ),
        (
            "name: x\nepics:\n  - key: e\n    name: E\n    colour: red\n",
            "p.yaml",
            "p.yaml: line 5 (epics[0].colour): unknown field 'colour'",
        ),
        (
            "name: x\nepics:\n  - key: 'bad key'\n    name: E\n",
            "p.yaml",
            "p.yaml: line 3 (epics[0].key): expected a slug",
        ),
        (
            "name: x\nepics:\n  - key: e\n    name: E\n    tasks:\n      - {key: t, title: T, estimate_minutes: 0}\n",
            "p.yaml",
            "(epics[0].tasks[0].estimate_minutes): input should be greater than 0",
        ),
        (
            "name: x\nepics:\n  - key: e\n    name: E\n    tasks:\n      - {key: t, title: T}\n      - {key: t, title: U}\n",
            "p.yaml",
            "task key 't' is used twice (epics[0].tasks[0] and epics[0].tasks[1])",
        ),
        (
            "name: x\nepics:\n  - key: e\n    name: E\n    tasks:\n      - {key: t, title: T, dependency_type: maybe}\n",
            "p.yaml",
            "(epics[0].tasks[0].dependency_type): input should be 'hard' or 'soft'",
        ),
    ],
)
def test_malformed_plans_are_explained(text: str, source: str, expected: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(text, source)
    assert expected in str(info.value)
    assert str(info.value).startswith(source)
