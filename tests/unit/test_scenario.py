"""Scenario files of the scripted model server: parsing, errors, and which reply a call gets."""

from __future__ import annotations

import pytest

from yokeflow.core.scenario import (
    FINAL_TEXT,
    Conversation,
    ErrorTurn,
    TextTurn,
    ToolTurn,
    choose_reply,
    parse_scenario,
)
from yokeflow.errors import ScenarioError

ISSUE_EXAMPLE = """
default:                       # used when no rule matches
  - text: "Nothing to do."
rules:
  - task: db-schema
    delay_seconds: 3
    usage: {input_tokens: 12000, output_tokens: 900}
    turns:
      - tool: Write
        input: {file_path: "{cwd}/db/schema.sql", content: "CREATE TABLE todo (...);\\n"}
      - tool: Bash
        input: {command: "git add -A && git commit -m 'db: schema'"}
      - tool: mcp__task-manager__update_task_status
        input: {task: "db-schema", status: done}
      - text: "Schema created."
  - match: "Create the API"
    turns: [{text: "API done."}]
  - match: "/build (the )?UI/"
    turns: [{error: {status: 529, message: "overloaded"}}]
"""


@pytest.fixture
def scenario():
    return parse_scenario(ISSUE_EXAMPLE, "example.yaml")


def test_the_issue_example_parses(scenario) -> None:
    rule = scenario.rules[0]
    assert rule.task == "db-schema"
    assert rule.delay_seconds == 3
    assert rule.usage.input_tokens == 12000
    assert rule.usage.cache_read_input_tokens == 0
    assert [type(t) for t in rule.turns] == [ToolTurn, ToolTurn, ToolTurn, TextTurn]
    assert scenario.default == [TextTurn(text="Nothing to do.")]


def test_task_rules_match_the_header_exactly(scenario) -> None:
    reply = choose_reply(scenario, Conversation(prompt="anything", task="db-schema", cwd="/w"))
    assert reply.rule == "rules[0] (task=db-schema)"
    assert reply.matched
    assert reply.delay_seconds == 3
    other = choose_reply(scenario, Conversation(prompt="anything", task="db-schema-2"))
    assert other.rule == "default"
    assert not other.matched


def test_match_rules_use_a_substring_or_a_regex_of_the_prompt(scenario) -> None:
    assert choose_reply(scenario, Conversation(prompt="Please Create the API now")).rule == (
        "rules[1] (match=Create the API)"
    )
    assert choose_reply(scenario, Conversation(prompt="build UI")).rule.startswith("rules[2]")
    assert choose_reply(scenario, Conversation(prompt="build the UI")).rule.startswith("rules[2]")
    assert choose_reply(scenario, Conversation(prompt="create the api")).rule == "default"


def test_rules_are_tried_in_order_and_the_first_match_answers() -> None:
    scenario = parse_scenario(
        """
rules:
  - match: "schema"
    turns: [{text: first}]
  - task: db
    turns: [{text: second}]
""",
        "s.yaml",
    )
    reply = choose_reply(scenario, Conversation(prompt="the schema", task="db"))
    assert reply.turn == TextTurn(text="first")


def test_the_turn_index_selects_the_turn_and_cwd_expands(scenario) -> None:
    replies = [
        choose_reply(scenario, Conversation(prompt="p", task="db-schema", cwd="/work/wt", turn=n))
        for n in range(5)
    ]
    first = replies[0].turn
    assert isinstance(first, ToolTurn)
    assert first.tool == "Write"
    assert first.input["file_path"] == "/work/wt/db/schema.sql"
    assert [getattr(r.turn, "tool", None) for r in replies[:3]] == [
        "Write",
        "Bash",
        "mcp__task-manager__update_task_status",
    ]
    assert replies[3].turn == TextTurn(text="Schema created.")
    # The CLI called once more than scripted: it gets a closing text, and the log says so.
    assert replies[4].turn == TextTurn(text=FINAL_TEXT)
    assert replies[4].rule.endswith("exhausted")


def test_cwd_expands_in_nested_inputs_and_is_left_alone_when_unknown() -> None:
    scenario = parse_scenario(
        """
default:
  - tool: X
    input: {paths: ["{cwd}/a", {deep: "{cwd}/b"}], n: 3}
    text: "in {cwd}"
""",
        "s.yaml",
    )
    turn = choose_reply(scenario, Conversation(prompt="", cwd="/r")).turn
    assert isinstance(turn, ToolTurn)
    assert turn.input == {"paths": ["/r/a", {"deep": "/r/b"}], "n": 3}
    assert turn.text == "in /r"
    unknown = choose_reply(scenario, Conversation(prompt="")).turn
    assert isinstance(unknown, ToolTurn)
    assert unknown.input["paths"][0] == "{cwd}/a"


def test_error_turns_carry_status_and_anthropic_type(scenario) -> None:
    turn = choose_reply(scenario, Conversation(prompt="build UI")).turn
    assert isinstance(turn, ErrorTurn)
    assert turn.error.status == 529
    assert turn.error.error_type() == "overloaded_error"
    assert not turn.error.retry
    custom = parse_scenario(
        "default: [{error: {status: 418, type: teapot_error}}]", "s.yaml"
    ).default[0]
    assert isinstance(custom, ErrorTurn)
    assert custom.error.error_type() == "teapot_error"


def test_an_empty_file_is_the_default_scenario() -> None:
    scenario = parse_scenario("", "empty.yaml")
    assert scenario.rules == []
    assert choose_reply(scenario, Conversation(prompt="hi")).turn == TextTurn(text="Nothing to do.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [\n", "bad.yaml: line 2, column 1: invalid YAML"),
        ("- a\n", "bad.yaml: expected a mapping with 'default' and/or 'rules', got list"),
        ("rulez: []\n", "bad.yaml: rulez: unknown field 'rulez'"),
        (
            "rules:\n  - task: x\n    turns:\n      - tool: Write\n        inptu: {}\n",
            "bad.yaml: rules[0].turns[0].inptu: unknown field 'inptu'",
        ),
        (
            "rules:\n  - task: x\n    match: y\n    turns: [{text: hi}]\n",
            "bad.yaml: rules[0]: a rule needs exactly one of 'task' or 'match'",
        ),
        (
            "rules:\n  - turns: [{text: hi}]\n",
            "bad.yaml: rules[0]: a rule needs exactly one of 'task' or 'match'",
        ),
        (
            "rules:\n  - match: '/([/'\n    turns: [{text: hi}]\n",
            "bad.yaml: rules[0]: bad regular expression '/([/'",
        ),
        (
            "rules:\n  - task: x\n    turns: []\n",
            "bad.yaml: rules[0].turns: list should have at least 1 item",
        ),
        (
            "rules:\n  - task: x\n    turns: [{error: {status: 200}}]\n",
            "bad.yaml: rules[0].turns[0].error.status: input should be greater than or equal to 400",
        ),
        ("default: [{txt: hi}]\n", "bad.yaml: default[0].txt: unknown field 'txt'"),
        ("default: [42]\n", "bad.yaml: default[0]: expected a turn"),
        (
            "rules:\n  - task: x\n    delay_seconds: -1\n    turns: [{text: a}]\n",
            "bad.yaml: rules[0].delay_seconds: input should be greater than or equal to 0",
        ),
    ],
)
def test_bad_files_are_reported_with_the_place_and_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "bad.yaml")
    assert str(caught.value).startswith(expected), str(caught.value)
