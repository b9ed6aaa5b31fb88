"""Lessons from one agent session's transcript: failures and their fixes, patterns, files, techniques.

Two transcript shapes are read, both JSON lines. The Claude adapter's
(``yokeflow.adapters.claude``): ``{"kind": "request", "cwd": …}``, then ``{"kind": "message",
"message": {"type": "AssistantMessage", "content": [{"type": "ToolUseBlock", …}]}}`` per SDK
message, then ``{"kind": "result", "result": {"success": …}}``. And the CLI's own
``--output-format stream-json``: ``system`` (``init`` carries the ``cwd``), ``assistant`` with
``text`` / ``tool_use`` blocks, ``user`` with ``tool_result`` blocks (``is_error``, and Bash's
``Exit code N``), and one ``result``. Blocks without a ``type`` are recognised by their fields.

:func:`learn_from_session` pairs every failed tool call with what followed: the explanation the
model gave, the files it changed, and the next run of the same command or tool that succeeded —
that is the fix. A successful session also yields its tool pattern (``Write → Bash(pytest) →
Edit → Bash(pytest)``), the check that proved it done, and the files it modified.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from yokeflow.core.domains import classify_domain
from yokeflow.core.expertise import Lesson, LessonKind, Provenance
from yokeflow.core.task_brief import TaskBrief

__all__ = [
    "LearnedSession",
    "ToolStep",
    "Transcript",
    "learn_from_session",
    "parse_transcript",
]

EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
MAX_PATTERN_STEPS = 8
MAX_FILES = 10
MAX_ERROR = 240
_EXIT = re.compile(r"^Exit code (\d+)\s*$", re.MULTILINE)
_ERROR_WITH_MESSAGE = re.compile(r"\b\w*(?:Error|Exception): \S")
_ERROR_LINE = re.compile(r"\b\w*(?:Error|Exception)\b")
# pytest's explanation lines ("E       assert [2, 1] == [1, 2]"); with CI set, pytest prints
# only these, without the "file:line: AssertionError" line.
_PYTEST_ASSERT = re.compile(r"^E\s+(assert\b.*\S)")
_FAIL_LINE = re.compile(
    r"(FAILED|\berror\b|\bfailed\b|Traceback|No such file|not found|denied)", re.IGNORECASE
)
_NOT_CHECKS = frozenset(
    [
        "git",
        "ls",
        "cat",
        "mkdir",
        "cd",
        "echo",
        "printf",
        "cp",
        "mv",
        "rm",
        "touch",
        "pwd",
        "find",
        "grep",
        "rg",
        "head",
        "tail",
        "sed",
        "awk",
        "chmod",
        "pip",
        "pip3",
        "uv",
        "apt",
        "apt-get",
        "curl",
        "wget",
        "true",
        "sleep",
        "which",
        "env",
        "export",
        "tree",
        "wc",
        "sort",
    ]
)
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm", "poetry", "cargo", "go", "bundle"})
_INSTALLS = frozenset({"install", "i", "add", "get", "ci"})
_NOT_CORE = frozenset({".gitignore", ".gitattributes"})
_BLOCK_TYPES = {
    "ToolUseBlock": "tool_use",
    "ToolResultBlock": "tool_result",
    "TextBlock": "text",
    "ThinkingBlock": "thinking",
}
"""The SDK's content block classes, as the Claude adapter names them in its transcript."""
_CD_PREFIX = re.compile(r"^\s*cd\s+\S+\s*&&\s*")
_SPLIT = re.compile(r"\s*(?:\|\||&&|\||;|2>&1|>>?)\s*")


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One tool call, its result, and what the model said just before it."""

    id: str
    name: str
    input: Mapping[str, Any]
    said: str = ""
    """Text of the assistant message(s) since the previous tool call."""
    is_error: bool = False
    output: str = ""
    answered: bool = False
    """False when the transcript has no result for this call (the session was cut off)."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """A session transcript reduced to what learning needs."""

    cwd: str | None
    steps: tuple[ToolStep, ...]
    succeeded: bool | None
    """From the final ``result`` message; None when the transcript has none."""
    final_text: str | None = None


@dataclass(frozen=True, slots=True)
class LearnedSession:
    """What one session taught: its domain, the lessons, and the files it modified."""

    domain: str
    lessons: tuple[Lesson, ...]
    files_modified: tuple[str, ...] = ()
    failures: int = 0
    fixed: int = 0
    tool_calls: int = 0


def _records(events: Iterable[str | Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for event in events:
        if isinstance(event, Mapping):
            yield event
            continue
        line = event.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line of a killed session
        if isinstance(data, dict):
            yield data


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(item) for item in content)
    if isinstance(content, Mapping):
        return str(content.get("text", "")) if "text" in content else ""
    return ""


def _content(record: Mapping[str, Any]) -> list[Any]:
    message = record.get("message")
    holder = message if isinstance(message, Mapping) and "content" in message else record
    content = holder.get("content")
    return content if isinstance(content, list) else []


@dataclass
class _Builder:
    cwd: str | None = None
    succeeded: bool | None = None
    final_text: str | None = None
    said: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    def block(self, block: Mapping[str, Any]) -> None:
        kind = block.get("type")
        kind = _BLOCK_TYPES.get(str(kind), kind)
        if kind == "tool_use" or (kind is None and "name" in block and "input" in block):
            call_id = str(block.get("id", len(self.order)))
            self.order.append(call_id)
            self.calls[call_id] = {
                "id": call_id,
                "name": str(block.get("name", "")),
                "input": block.get("input") or {},
                "said": " ".join(self.said).strip(),
            }
            self.said.clear()
        elif kind == "tool_result" or (kind is None and "tool_use_id" in block):
            call = self.calls.get(str(block.get("tool_use_id")))
            if call is not None:
                output = _text_of(block.get("content"))
                exit_code = _EXIT.search(output[:64])
                call["output"] = output
                call["is_error"] = bool(block.get("is_error")) or bool(
                    exit_code and exit_code[1] != "0"
                )
                call["answered"] = True
        elif kind == "text" or (kind is None and "text" in block):
            text = str(block.get("text", "")).strip()
            if text:
                self.said.append(text)
                self.final_text = text

    def record(self, record: Mapping[str, Any]) -> None:
        envelope = record.get("kind")  # the Claude adapter's transcript lines
        if envelope == "message" and isinstance(record.get("message"), Mapping):
            record = record["message"]
        elif envelope == "request":
            if isinstance(record.get("cwd"), str):
                self.cwd = record["cwd"]
            return
        elif envelope == "result" and isinstance(record.get("result"), Mapping):
            # The adapter's own verdict (it also counts timeouts and cancellations).
            self.succeeded = bool(record["result"].get("success"))
            return
        elif envelope is not None and "type" not in record:
            return  # stderr lines and other notes
        kind = str(record.get("type", record.get("_type", "")))
        if kind in ("system", "SystemMessage"):
            data = record.get("data") if isinstance(record.get("data"), Mapping) else record
            cwd = data.get("cwd") if isinstance(data, Mapping) else None
            if isinstance(cwd, str):
                self.cwd = cwd
            return
        if kind in ("result", "ResultMessage") or "total_cost_usd" in record:
            self.succeeded = (
                not record.get("is_error") and record.get("subtype", "success") == "success"
            )
            if isinstance(record.get("result"), str):
                self.final_text = record["result"]
            return
        for block in _content(record):
            if isinstance(block, Mapping):
                self.block(block)


def parse_transcript(events: Iterable[str | Mapping[str, Any]]) -> Transcript:
    """A transcript from its JSON lines (or already decoded records)."""
    builder = _Builder()
    for record in _records(events):
        builder.record(record)
    steps = tuple(
        ToolStep(
            id=call["id"],
            name=call["name"],
            input=call["input"],
            said=call["said"],
            is_error=call.get("is_error", False),
            output=call.get("output", ""),
            answered=call.get("answered", False),
        )
        for call in (builder.calls[i] for i in builder.order)
    )
    return Transcript(
        cwd=builder.cwd, steps=steps, succeeded=builder.succeeded, final_text=builder.final_text
    )


def _relative(path: str, cwd: str | None) -> str:
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1 :]
    return path


def _command(step: ToolStep, cwd: str | None) -> str:
    """The command a Bash step ran, without ``cd DIR &&`` and output plumbing, paths relative."""
    raw = str(step.input.get("command", ""))
    if cwd:
        raw = raw.replace(cwd.rstrip("/") + "/", "").replace(cwd, ".")
    raw = _CD_PREFIX.sub("", raw)
    return _SPLIT.split(raw, maxsplit=1)[0].strip()


def _program(command: str) -> str:
    """The program a command runs: ``python -m pytest -q`` → ``pytest``."""
    try:
        parts = shlex.split(command)
    except ValueError:
        parts = command.split()
    if not parts:
        return "sh"
    if len(parts) >= 3 and PurePosixPath(parts[0]).name.startswith("python") and parts[1] == "-m":
        return parts[2]
    return PurePosixPath(parts[0]).name


def _target(step: ToolStep, cwd: str | None) -> str | None:
    for key in ("file_path", "notebook_path", "path"):
        value = step.input.get(key)
        if isinstance(value, str) and value:
            return _relative(value, cwd)
    return None


def _signature(step: ToolStep, cwd: str | None) -> tuple[str, str]:
    """What makes two steps "the same attempt": the tool and its command or file."""
    if step.name == "Bash":
        return ("Bash", _command(step, cwd))
    return (step.name, _target(step, cwd) or json.dumps(dict(step.input), sort_keys=True)[:200])


def _subject(step: ToolStep, cwd: str | None) -> str:
    if step.name == "Bash":
        return f"`{_command(step, cwd)}`"
    target = _target(step, cwd)
    return f"{step.name} `{target}`" if target else step.name


def _error_message(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not _EXIT.match(line) and not set(line) <= set("=-_ ")]
    chosen = next((line for line in lines if _ERROR_WITH_MESSAGE.search(line)), None)
    if chosen is None:
        found = next((m for m in map(_PYTEST_ASSERT.match, lines) if m), None)
        chosen = f"AssertionError: {found.group(1)}" if found else None
    chosen = chosen or next((line for line in lines if _ERROR_LINE.search(line)), None)
    chosen = chosen or next((line for line in lines if _FAIL_LINE.search(line)), None)
    chosen = chosen or (lines[0] if lines else "no output")
    return chosen if len(chosen) <= MAX_ERROR else chosen[: MAX_ERROR - 1] + "…"


def _label(step: ToolStep, cwd: str | None) -> str:
    if step.name == "Bash":
        return f"Bash({_program(_command(step, cwd))})"
    if step.name.startswith("mcp__"):
        return f"MCP({step.name.rsplit('__', 1)[-1]})"
    return step.name


def _is_check(command: str) -> bool:
    """Whether a command checks the work (tests, linters, a build, a smoke run), as opposed to
    moving files around, committing, or installing."""
    program = _program(command)
    if not command or program in _NOT_CHECKS:
        return False
    words = command.split()
    return not (program in _PACKAGE_MANAGERS and any(w in _INSTALLS for w in words[1:3]))


def _pattern(steps: Sequence[ToolStep], cwd: str | None) -> str | None:
    labels: list[str] = []
    for step in steps:
        label = _label(step, cwd)
        if not labels or labels[-1] != label:
            labels.append(label)
    if len(labels) < 2:
        return None
    shown = labels[:MAX_PATTERN_STEPS]
    return " → ".join(shown) + (" → …" if len(labels) > MAX_PATTERN_STEPS else "")


def _fix(steps: Sequence[ToolStep], failed: int, cwd: str | None) -> tuple[str | None, int | None]:
    """The fix that followed step ``failed``: (description, index of the step it made pass)."""
    signature = _signature(steps[failed], cwd)
    for later in range(failed + 1, len(steps)):
        if _signature(steps[later], cwd) != signature:
            continue
        if steps[later].is_error or not steps[later].answered:
            return None, None  # tried again and failed again: that error gets its own lesson
        between = steps[failed + 1 : later + 1]
        said = " ".join(s.said for s in between if s.said).strip()
        changed = list(
            dict.fromkeys(
                t
                for s in between
                if s.name in EDIT_TOOLS and not s.is_error and (t := _target(s, cwd)) is not None
            )
        )
        parts = []
        if changed:
            parts.append("changed " + ", ".join(f"`{c}`" for c in changed[:4]))
        parts.append(f"then {_subject(steps[later], cwd)} succeeded")
        detail = "; ".join(parts)
        return (f"{said} ({detail})" if said else detail[0].upper() + detail[1:]), later
    return None, None


def learn_from_session(
    transcript_events: Iterable[str | Mapping[str, Any]],
    task: TaskBrief,
    session_id: int | str | None,
    now: datetime,
    *,
    files_modified: Sequence[str] = (),
    succeeded: bool | None = None,
    domains: Iterable[str] | None = None,
) -> LearnedSession:
    """The lessons of one session, with provenance ``(session_id, task.key, now's date)``.

    ``files_modified`` adds files the runner saw changed (the transcript's own edits are always
    counted); ``succeeded`` overrides the transcript's final result (e.g. the verify command
    failed after the model said it was done).
    """
    transcript = parse_transcript(transcript_events)
    cwd = transcript.cwd
    steps = [s for s in transcript.steps if s.answered]
    ok = transcript.succeeded if succeeded is None else succeeded
    provenance = Provenance(
        session=None if session_id is None else str(session_id), task=task.key, date=now.date()
    )
    lessons: list[Lesson] = []
    fixed = 0
    failures = [i for i, step in enumerate(steps) if step.is_error]
    for index in failures:
        step = steps[index]
        fix, _ = _fix(steps, index, cwd)
        fixed += fix is not None
        text = f"{_subject(step, cwd)} failed: {_error_message(step.output)}"
        lessons.append(Lesson(LessonKind.FAILURE, text, fix=fix, provenance=provenance))
    edited = [
        t for s in steps if s.name in EDIT_TOOLS and not s.is_error and (t := _target(s, cwd))
    ]
    files = list(dict.fromkeys([*edited, *(_relative(f, cwd) for f in files_modified)]))
    # Outside the worktree is not the project's; YokeFlow's own files are not the domain's.
    files = [
        f
        for f in files
        if not f.startswith("/") and f not in _NOT_CORE and not f.startswith(".yokeflow/")
    ]
    if ok:
        pattern = _pattern(steps, cwd)
        if pattern:
            lessons.append(Lesson(LessonKind.PATTERN, pattern, provenance=provenance))
        # The check that proved the session done: the last checking command, run after the
        # last edit, and passing.
        last_edit = max((i for i, s in enumerate(steps) if s.name in EDIT_TOOLS), default=-1)
        checks = [
            (i, s) for i, s in enumerate(steps) if s.name == "Bash" and _is_check(_command(s, cwd))
        ]
        if checks and checks[-1][0] > last_edit and not checks[-1][1].is_error:
            lessons.append(
                Lesson(
                    LessonKind.TECHNIQUE,
                    f"Verify with {_subject(checks[-1][1], cwd)} before finishing",
                    provenance=provenance,
                )
            )
    lessons.extend(
        Lesson(LessonKind.CORE_FILE, f, provenance=provenance) for f in files[:MAX_FILES]
    )
    domain = classify_domain(
        task.title,
        task.description,
        [*task.files, *files],
        *(() if domains is None else (domains,)),
    )
    return LearnedSession(
        domain=domain,
        lessons=tuple(lessons),
        files_modified=tuple(files),
        failures=len(failures),
        fixed=fixed,
        tool_calls=len(steps),
    )
