"""Lessons from session transcripts, starting from one recorded with the real CLI.

``fixtures/transcript_failure_then_fix.jsonl`` is the stream-json output of the bundled Claude
Code CLI run against the scripted model server with
``fixtures/transcript_failure_then_fix.scenario.yaml``: it writes a module and its test, the test
fails, it reads and edits the module, and the test passes.
``fixtures/adapter_transcript_failure_then_fix.jsonl`` is the same scenario run through the Claude
adapter (``ClaudeAgentRunner``), which writes the transcript the engine hands to learning.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from yokeflow.core.expertise import LessonKind
from yokeflow.core.lessons import learn_from_session, parse_transcript
from yokeflow.core.task_brief import TaskBrief

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "transcript_failure_then_fix.jsonl"
ADAPTER_FIXTURE = FIXTURES / "adapter_transcript_failure_then_fix.jsonl"
NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
TASK = TaskBrief("db-1", "Create the database schema module", "List the table names")


def real_lines() -> list[str]:
    return FIXTURE.read_text(encoding="utf-8").splitlines()


def adapter_lines() -> list[str]:
    return ADAPTER_FIXTURE.read_text(encoding="utf-8").splitlines()


def test_both_transcript_shapes_teach_the_same_lessons() -> None:
    from_cli = learn_from_session(real_lines(), TASK, 7, NOW)
    from_adapter = learn_from_session(adapter_lines(), TASK, 7, NOW)
    assert parse_transcript(adapter_lines()).cwd == "/tmp/yf8/adrec/work"
    assert from_adapter == from_cli


def test_the_adapters_verdict_counts() -> None:
    lines = adapter_lines()
    lines[-1] = lines[-1].replace('"success": true', '"success": false')
    assert parse_transcript(lines).succeeded is False


def test_parse_the_real_transcript() -> None:
    transcript = parse_transcript(real_lines())
    assert transcript.cwd == "/tmp/yf8/rec/work"
    assert [s.name for s in transcript.steps] == ["Write", "Write", "Bash", "Read", "Edit", "Bash"]
    assert [s.is_error for s in transcript.steps] == [False, False, True, False, False, False]
    assert transcript.succeeded is True
    assert "sorted" in (transcript.final_text or "")


def test_failure_then_fix_becomes_a_lesson() -> None:
    learned = learn_from_session(real_lines(), TASK, 7, NOW)
    assert learned.domain == "database"
    assert (learned.failures, learned.fixed, learned.tool_calls) == (1, 1, 6)
    (failure,) = [x for x in learned.lessons if x.kind is LessonKind.FAILURE]
    assert failure.text.startswith(
        "`python3 -m pytest -q tests/test_schema.py` failed: FAILED tests/test_schema.py::test_tables - AssertionError"
    )
    assert failure.fix is not None
    assert "The test expects the table names sorted" in failure.fix
    assert "changed `db/schema.py`" in failure.fix
    assert failure.fix.endswith("then `python3 -m pytest -q tests/test_schema.py` succeeded)")
    assert failure.provenance.session == "7"
    assert failure.provenance.task == "db-1"
    assert failure.provenance.date == date(2026, 11, 24)


def test_pattern_technique_and_files_of_a_successful_session() -> None:
    learned = learn_from_session(real_lines(), TASK, 7, NOW)
    kinds: dict[LessonKind, list[str]] = {}
    for x in learned.lessons:
        kinds.setdefault(x.kind, []).append(x.text)
    assert kinds[LessonKind.PATTERN] == ["Write → Bash(pytest) → Read → Edit → Bash(pytest)"]
    assert kinds[LessonKind.TECHNIQUE] == [
        "Verify with `python3 -m pytest -q tests/test_schema.py` before finishing"
    ]
    assert kinds[LessonKind.CORE_FILE] == ["db/schema.py", "tests/test_schema.py"]
    assert learned.files_modified == ("db/schema.py", "tests/test_schema.py")


def test_a_failed_session_teaches_its_failures_but_no_pattern() -> None:
    learned = learn_from_session(real_lines(), TASK, 7, NOW, succeeded=False)
    kinds = {x.kind for x in learned.lessons}
    assert LessonKind.FAILURE in kinds
    assert LessonKind.PATTERN not in kinds
    assert LessonKind.TECHNIQUE not in kinds


def sdk_shaped(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(e) for e in events]


def test_sdk_dataclass_records_and_an_unresolved_failure() -> None:
    # Content blocks as the SDK's dataclasses serialize them: no "type" on blocks.
    lines = sdk_shaped(
        [
            {"_type": "SystemMessage", "subtype": "init", "data": {"cwd": "/w"}},
            {
                "_type": "AssistantMessage",
                "content": [
                    {"text": "Build it."},
                    {
                        "id": "1",
                        "name": "Bash",
                        "input": {"command": "cd /w && make build 2>&1 | tail"},
                    },
                ],
            },
            {
                "_type": "UserMessage",
                "content": [
                    {
                        "tool_use_id": "1",
                        "content": "Exit code 2\nmake: *** No rule to make target 'build'.  Stop.",
                        "is_error": None,
                    }
                ],
            },
            {
                "_type": "AssistantMessage",
                "content": [
                    {
                        "id": "2",
                        "name": "Write",
                        "input": {"file_path": "/w/Makefile", "content": "build:\n"},
                    }
                ],
            },
            {
                "_type": "UserMessage",
                "content": [{"tool_use_id": "2", "content": [{"type": "text", "text": "ok"}]}],
            },
            {
                "_type": "AssistantMessage",
                "content": [{"id": "3", "name": "Bash", "input": {"command": "make test"}}],
            },
            {
                "_type": "UserMessage",
                "content": [
                    {
                        "tool_use_id": "3",
                        "content": "Exit code 1\nError: no tests",
                        "is_error": True,
                    }
                ],
            },
            {
                "_type": "ResultMessage",
                "subtype": "error_max_turns",
                "is_error": True,
                "total_cost_usd": 0.1,
            },
        ]
    )
    lines.append('{"type": "assistant", "message": {"content": [')  # torn last line of a killed CLI
    learned = learn_from_session(lines, TaskBrief("x", "Makefile"), "s9", NOW)
    failures = [x for x in learned.lessons if x.kind is LessonKind.FAILURE]
    assert [f.text for f in failures] == [
        "`make build` failed: make: *** No rule to make target 'build'. Stop.",
        "`make test` failed: Error: no tests",
    ]
    assert [f.fix for f in failures] == [None, None]
    assert learned.files_modified == ("Makefile",)
    assert not [x for x in learned.lessons if x.kind is LessonKind.PATTERN]


def test_a_fix_is_credited_only_to_the_last_failure_before_success() -> None:
    def bash(i: str, ok: bool, out: str) -> list[dict[str, Any]]:
        return [
            {
                "type": "assistant",
                "message": {
                    "content": [
                        {
                            "type": "tool_use",
                            "id": i,
                            "name": "Bash",
                            "input": {"command": "pytest -q"},
                        }
                    ]
                },
            },
            {
                "type": "user",
                "message": {
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": i,
                            "content": out,
                            "is_error": not ok,
                        }
                    ]
                },
            },
        ]

    def edit(i: str, said: str) -> list[dict[str, Any]]:
        return [
            {
                "type": "assistant",
                "message": {
                    "content": [
                        {"type": "text", "text": said},
                        {
                            "type": "tool_use",
                            "id": i,
                            "name": "Edit",
                            "input": {"file_path": "/w/app.py"},
                        },
                    ]
                },
            },
            {
                "type": "user",
                "message": {
                    "content": [{"type": "tool_result", "tool_use_id": i, "content": "ok"}]
                },
            },
        ]

    events = [
        {"type": "system", "subtype": "init", "cwd": "/w"},
        *bash("a", False, "ImportError: cannot import name 'x'"),
        *edit("b", "Export x."),
        *bash("c", False, "TypeError: x() takes 0 arguments"),
        *edit("d", "Give x a parameter."),
        *bash("e", True, "1 passed"),
        {"type": "result", "subtype": "success", "is_error": False},
    ]
    learned = learn_from_session(sdk_shaped(events), TaskBrief("k", "x"), 1, NOW)
    fixes = {x.text: x.fix for x in learned.lessons if x.kind is LessonKind.FAILURE}
    assert fixes["`pytest -q` failed: ImportError: cannot import name 'x'"] is None
    assert fixes["`pytest -q` failed: TypeError: x() takes 0 arguments"] == (
        "Give x a parameter. (changed `app.py`; then `pytest -q` succeeded)"
    )
    assert learned.fixed == 1


def test_only_a_check_after_the_last_edit_is_a_technique() -> None:
    def call(
        i: str, name: str, tool_input: dict[str, Any], ok: bool = True
    ) -> list[dict[str, Any]]:
        return [
            {
                "type": "assistant",
                "message": {
                    "content": [{"type": "tool_use", "id": i, "name": name, "input": tool_input}]
                },
            },
            {
                "type": "user",
                "message": {
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": i,
                            "content": "ok",
                            "is_error": not ok,
                        }
                    ]
                },
            },
        ]

    def session(*calls: list[dict[str, Any]]) -> list[str]:
        events = [{"type": "system", "subtype": "init", "cwd": "/w"}]
        for c in calls:
            events.extend(c)
        events.append({"type": "result", "subtype": "success", "is_error": False})
        return sdk_shaped(events)

    def techniques(lines: list[str]) -> list[str]:
        learned = learn_from_session(
            lines,
            TaskBrief("k", "x"),
            1,
            NOW,
            files_modified=[".gitignore", "/w/.yokeflow/expertise/api.md"],
        )
        assert ".gitignore" not in learned.files_modified
        assert ".yokeflow/expertise/api.md" not in learned.files_modified
        return [x.text for x in learned.lessons if x.kind is LessonKind.TECHNIQUE]

    write = call("w", "Write", {"file_path": "/w/app.py"})
    test = call("t", "Bash", {"command": "python -m pytest -q"})
    commit = call("c", "Bash", {"command": "git add -A && git commit -qm done"})
    install = call("i", "Bash", {"command": "npm install left-pad"})
    # the commit after the test is not the check
    assert techniques(session(write, test, commit)) == [
        "Verify with `python -m pytest -q` before finishing"
    ]
    # a test before the last edit proves nothing about the final state
    assert techniques(session(test, write, commit)) == []
    assert techniques(session(write, install)) == []
    mcp = call("m", "mcp__task-manager__update_task_status", {})
    learned = learn_from_session(session(write, test, mcp), TaskBrief("k", "x"), 1, NOW)
    assert [x.text for x in learned.lessons if x.kind is LessonKind.PATTERN] == [
        "Write → Bash(pytest) → MCP(update_task_status)"
    ]
