"""The scripted model server over real HTTP (no CLI): the Messages API shapes, records, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from yokeflow.adapters.scripted_model import ScriptedModelServer, load_scenario
from yokeflow.errors import ScenarioError
from yokeflow.testing.agents import scenario, scripted_model

SCENARIO = """
default:
  - text: "Nothing to do."
rules:
  - task: db-schema
    usage: {input_tokens: 12000, output_tokens: 900}
    turns:
      - tool: Write
        text: "Writing the schema."
        input: {file_path: "{cwd}/db/schema.sql", content: "CREATE TABLE todo ();"}
      - text: "Schema created."
  - match: "/fail (now|later)/"
    turns:
      - error: {status: 529, message: "overloaded, scripted"}
"""

TOOLS = [{"name": "Write", "input_schema": {}}, {"name": "Bash", "input_schema": {}}]


def _body(
    prompt: str, *, assistants: int = 0, stream: bool = False, tools: Any = TOOLS
) -> dict[str, Any]:
    reminder = {
        "type": "text",
        "text": "<system-reminder>\n - Primary working directory: /stated/dir\n</system-reminder>",
    }
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [reminder, {"type": "text", "text": prompt}]}
    ]
    for n in range(assistants):
        messages.append({"role": "assistant", "content": [{"type": "text", "text": f"reply {n}"}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": "go on"}]})
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "messages": messages,
        "stream": stream,
    }
    if tools:
        body["tools"] = tools
    body["system"] = [{"type": "text", "text": "You are a test."}]
    return body


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
def server(tmp_path: Path):
    with scripted_model(SCENARIO, record=tmp_path / "requests.jsonl") as running:
        yield running


def test_a_streamed_tool_reply_has_the_anthropic_event_sequence(
    server: ScriptedModelServer,
) -> None:
    response = httpx.post(
        f"{server.url}/v1/messages?beta=true",
        json=_body("Create it", stream=True),
        headers={"X-Yokeflow-Task": "db-schema", "X-Yokeflow-Cwd": "/work/wt"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_")
    assert start["usage"]["input_tokens"] == 12000
    assert events[2][1]["delta"] == {"type": "text_delta", "text": "Writing the schema."}
    tool = events[4][1]["content_block"]
    assert (tool["type"], tool["name"], tool["input"]) == ("tool_use", "Write", {})
    assert tool["id"].startswith("toolu_")
    assert json.loads(events[5][1]["delta"]["partial_json"]) == {
        "file_path": "/work/wt/db/schema.sql",  # the header's cwd wins over the stated one
        "content": "CREATE TABLE todo ();",
    }
    assert events[7][1]["delta"]["stop_reason"] == "tool_use"
    assert events[7][1]["usage"]["output_tokens"] == 900


def test_non_streaming_replies_and_fresh_message_ids(server: ScriptedModelServer) -> None:
    headers = {"X-Yokeflow-Task": "db-schema"}
    first = httpx.post(
        f"{server.url}/v1/messages", json=_body("x", assistants=1), headers=headers
    ).json()
    again = httpx.post(
        f"{server.url}/v1/messages", json=_body("x", assistants=1), headers=headers
    ).json()
    assert first["content"] == [{"type": "text", "text": "Schema created."}]
    assert first["stop_reason"] == "end_turn"
    assert first["usage"]["output_tokens"] == 900
    assert first["id"] != again["id"]
    # Without the header, {cwd} comes from the CLI's "Primary working directory" reminder.
    stated = httpx.post(
        f"{server.url}/v1/messages",
        json=_body("x"),
        headers=headers | {"X-Yokeflow-Task": "db-schema"},
    ).json()
    assert stated["content"][1]["input"]["file_path"] == "/stated/dir/db/schema.sql"


def test_requests_are_recorded_in_memory_and_as_json_lines(
    server: ScriptedModelServer, tmp_path: Path
) -> None:
    httpx.post(
        f"{server.url}/v1/messages",
        json=_body("Create it"),
        headers={"X-Yokeflow-Task": "db-schema"},
    )
    httpx.post(f"{server.url}/v1/messages", json=_body("Hello", tools=None))
    [turn] = server.requests.turns()
    assert turn.task == "db-schema"
    assert turn.prompt == "Create it"  # the system reminders are left out
    assert turn.cwd == "/stated/dir"
    assert turn.tools == ("Write", "Bash")
    assert turn.system == "You are a test."
    assert turn.model == "claude-sonnet-4-5"
    assert turn.rule == "rules[0] (task=db-schema)"
    assert turn.reply == "tool Write"
    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["turn", "side"]
    assert lines[0]["tools"] == ["Write", "Bash"]


def test_side_requests_without_tools_get_a_short_answer_and_do_not_count(
    server: ScriptedModelServer,
) -> None:
    reply = httpx.post(f"{server.url}/v1/messages", json=_body("Summarize this", tools=None)).json()
    assert reply["content"] == [{"type": "text", "text": "OK."}]
    assert server.requests.turns() == []


def test_unmatched_prompts_get_the_default_and_are_logged(
    server: ScriptedModelServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="yokeflow.scripted_model"):
        reply = httpx.post(f"{server.url}/v1/messages", json=_body("Something else")).json()
    assert reply["content"] == [{"type": "text", "text": "Nothing to do."}]
    assert "no rule matched" in caplog.text
    assert "Something else" in caplog.text


def test_a_scripted_error_is_an_http_error_in_anthropic_shape(server: ScriptedModelServer) -> None:
    response = httpx.post(f"{server.url}/v1/messages", json=_body("please fail now", stream=True))
    assert response.status_code == 529
    assert response.headers["x-should-retry"] == "false"
    assert response.json() == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "overloaded, scripted"},
    }


def test_protocol_errors_are_answered_400_and_logged(
    server: ScriptedModelServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="yokeflow.scripted_model"):
        bad_json = httpx.post(f"{server.url}/v1/messages", content=b"{nope")
        no_messages = httpx.post(f"{server.url}/v1/messages", json={"model": "m", "messages": []})
        unknown = httpx.get(f"{server.url}/v1/models")
    assert bad_json.status_code == 400
    assert no_messages.status_code == 400
    assert "'messages' must be a non-empty list" in no_messages.json()["error"]["message"]
    assert unknown.status_code == 404
    assert "bad request" in caplog.text
    assert "unknown endpoint GET /v1/models" in caplog.text
    assert [r.kind for r in server.requests.all()] == ["invalid", "invalid", "invalid"]


def test_count_tokens(server: ScriptedModelServer) -> None:
    response = httpx.post(f"{server.url}/v1/messages/count_tokens", json=_body("count me"))
    assert response.status_code == 200
    assert response.json()["input_tokens"] > 0


def test_delay_holds_the_first_event_back() -> None:
    with scripted_model("default: [{text: slow}]\ndefault_delay_seconds: 0.6\n") as server:
        began = time.monotonic()
        with httpx.stream(
            "POST", f"{server.url}/v1/messages", json=_body("x", stream=True)
        ) as response:
            assert response.status_code == 200
            first = next(response.iter_text())
            waited = time.monotonic() - began
    assert "message_start" in first
    assert waited >= 0.6


def test_the_scenario_can_be_swapped_while_serving(server: ScriptedModelServer) -> None:
    server.scenario = scenario("default: [{text: swapped}]")
    reply = httpx.post(f"{server.url}/v1/messages", json=_body("x")).json()
    assert reply["content"][0]["text"] == "swapped"


def test_a_bad_or_missing_scenario_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - task: x\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: rules\[0\].turns: missing required field"):
        load_scenario(bad)


def test_the_serve_command_serves_a_scenario_file(tmp_path: Path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(SCENARIO)
    record = tmp_path / "r.jsonl"
    with ScriptedModelServer(scenario("{}")) as probe:
        port = probe.port  # a free port, released when the probe stops
    yokeflow = str(Path(sys.executable).with_name("yokeflow"))
    command = [
        yokeflow,
        "scripted-model",
        "serve",
        "--scenario",
        str(scenario_file),
        "--port",
        str(port),
        "--record",
        str(record),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = httpx.post(
                    f"http://127.0.0.1:{port}/v1/messages",
                    json=_body("x"),
                    headers={"X-Yokeflow-Task": "db-schema"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        assert reply.json()["content"][1]["name"] == "Write"
        assert json.loads(record.read_text().splitlines()[0])["task"] == "db-schema"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "serving" in output
    assert "rules[0] (task=db-schema)" in output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: 3\n")
    failed = subprocess.run(
        [yokeflow, "scripted-model", "serve", "--scenario", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 2
    assert failed.stderr.startswith(f"error: {bad}: rules: ")
