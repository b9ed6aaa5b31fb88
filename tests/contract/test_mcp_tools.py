"""The MCP tool list is a public contract: pinned by a snapshot, complete, described for agents.

``mcp-task-manager/tools.snapshot.json`` is generated (``yokeflow generate``); a change to a
tool's name, description or input schema shows up as a diff of that file in review.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from yokeflow.generated import GENERATED
from yokeflow_mcp.snapshot import SNAPSHOT_PATH, tool_snapshot

ROOT = Path(__file__).resolve().parents[2]

UPSTREAM = {
    "task_status",
    "get_next_task",
    "list_epics",
    "get_epic",
    "list_tasks",
    "get_task",
    "list_tests",
    "create_epic",
    "create_task",
    "create_test",
    "expand_epic",
    "update_task_status",
    "start_task",
    "update_test_result",
    "mark_project_complete",
    "get_session_history",
}
"""The upstream YokeFlow tool set, which agents' prompts already know."""
OURS = {
    "get_dependency_graph",
    "get_parallel_batches",
    "validate_dependencies",
    "declare_dependency",
}
READ_ONLY = {
    "task_status",
    "list_epics",
    "get_epic",
    "list_tasks",
    "get_task",
    "list_tests",
    "get_session_history",
    "get_dependency_graph",
    "get_parallel_batches",
    "validate_dependencies",
}


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return tool_snapshot()


@pytest.fixture(scope="module")
def tools(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in snapshot["tools"]}


def test_the_snapshot_on_disk_is_current(snapshot: dict[str, Any]) -> None:
    assert SNAPSHOT_PATH in GENERATED
    on_disk = json.loads((ROOT / SNAPSHOT_PATH).read_text())
    assert on_disk == snapshot, "stale: run `yokeflow generate`"


def test_the_tool_set_is_upstreams_plus_ours(tools: dict[str, dict[str, Any]]) -> None:
    assert set(tools) == UPSTREAM | OURS


def test_every_tool_and_argument_is_described_for_an_agent(
    tools: dict[str, dict[str, Any]],
) -> None:
    for name, tool in tools.items():
        assert len(tool["description"]) > 40, name
        assert "    " not in tool["description"], f"{name}: docstring indentation leaked"
        schema = tool["inputSchema"]
        assert schema["type"] == "object"
        for argument, spec in schema["properties"].items():
            assert argument != "ctx", f"{name}: the context leaked into the schema"
            described = spec.get("description") or spec.get("$ref") or spec.get("items")
            assert described, f"{name}.{argument} has no description"


def test_read_only_tools_say_so(tools: dict[str, dict[str, Any]]) -> None:
    for name, tool in tools.items():
        assert tool["annotations"]["readOnlyHint"] is (name in READ_ONLY), name
        assert tool["annotations"].get("destructiveHint") in (None, False), name


@pytest.mark.parametrize(
    ("tool", "argument", "expected"),
    [
        ("create_task", "depends_on", {"type": "array"}),
        ("create_task", "dependency_type", {"enum": ["hard", "soft"], "default": "hard"}),
        ("create_epic", "depends_on", {"type": "array"}),
        ("get_dependency_graph", "format", {"enum": ["json", "mermaid", "ascii"]}),
        ("get_next_task", "claim", {"type": "boolean", "default": False}),
        (
            "update_task_status",
            "status",
            {"enum": ["pending", "running", "done", "failed", "blocked", "cancelled"]},
        ),
    ],
)
def test_key_arguments_have_their_documented_shape(
    tools: dict[str, dict[str, Any]], tool: str, argument: str, expected: dict[str, Any]
) -> None:
    spec = tools[tool]["inputSchema"]["properties"][argument]
    for key, value in expected.items():
        assert spec[key] == value, (tool, argument, spec)


def test_tasks_are_named_by_key_or_id(tools: dict[str, dict[str, Any]]) -> None:
    spec = tools["get_task"]["inputSchema"]["properties"]["task"]
    assert {"type": "integer"} in spec["anyOf"]
    assert {"type": "string"} in spec["anyOf"]
    assert tools["get_task"]["inputSchema"]["required"] == ["task"]
    # Task-scoped sessions may leave their own task out.
    for name in ("start_task", "update_task_status", "declare_dependency", "create_test"):
        assert "task" not in tools[name]["inputSchema"].get("required", []), name
