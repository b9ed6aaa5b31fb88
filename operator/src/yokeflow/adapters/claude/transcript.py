"""What a session said and did, gathered from the SDK's messages as they arrive.

Every message is written to the transcript (one JSON object a line) and folded into the
session's facts: the tools used, the tool calls that failed, the files edited, the last text,
and the SDK's final :class:`~claude_agent_sdk.ResultMessage`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import IO, Any

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

from yokeflow.adapters.private_files import append_private
from yokeflow.ports.agent import TokenUsage, ToolFailure

__all__ = ["SessionLog"]

_EDIT_TOOLS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}
_FAILURE_CHARS = 500


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "type": type(value).__name__,
            **{f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else str(content)


class SessionLog:
    """The transcript file and the facts of one session."""

    def __init__(self, path: Path | None, cwd: Path) -> None:
        self._cwd = cwd
        self._out: IO[str] | None = None
        if path is not None:
            self._out = append_private(path)  # 0600 in 0700 folders: it quotes everything
        self.path = path
        self.result: ResultMessage | None = None
        self.session_id: str | None = None
        self.tools_used: list[str] = []
        self.tool_calls = 0
        self.tool_failures: list[ToolFailure] = []
        self.edited: list[str] = []
        self.final_text: str | None = None
        self.stderr_tail: list[str] = []
        self._tool_names: dict[str, str] = {}
        self._usage_by_message: dict[str, dict[str, Any]] = {}

    def write(self, kind: str, data: dict[str, Any]) -> None:
        """Append one line to the transcript (a no-op without a transcript file)."""
        if self._out is not None:
            line = {"at": round(time.time(), 3), "kind": kind, **data}
            self._out.write(json.dumps(line, default=str) + "\n")
            self._out.flush()

    def stderr(self, line: str) -> None:
        """The CLI's stderr: kept (last lines) for error messages, and transcribed."""
        self.stderr_tail = [*self.stderr_tail[-19:], line]
        self.write("stderr", {"line": line})

    def add(self, message: Any) -> None:
        """Fold in one SDK message."""
        self.write("message", {"message": _jsonable(message)})
        session_id = getattr(message, "session_id", None)
        if isinstance(session_id, str) and self.session_id is None:
            self.session_id = session_id
        if isinstance(message, AssistantMessage):
            self._assistant(message)
        elif isinstance(message, UserMessage):
            self._user(message)
        elif isinstance(message, ResultMessage):
            self.result = message
            self.session_id = message.session_id

    def _assistant(self, message: AssistantMessage) -> None:
        if message.message_id and message.usage:
            self._usage_by_message[message.message_id] = message.usage
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                self.tool_calls += 1
                self._tool_names[block.id] = block.name
                if block.name not in self.tools_used:
                    self.tools_used.append(block.name)
                path = block.input.get("file_path") or block.input.get("notebook_path")
                if block.name in _EDIT_TOOLS and isinstance(path, str):
                    self._edited(path)
            elif isinstance(block, TextBlock) and message.error is None and block.text.strip():
                self.final_text = block.text

    def _user(self, message: UserMessage) -> None:
        if isinstance(message.content, str):
            return
        for block in message.content:
            if isinstance(block, ToolResultBlock) and block.is_error:
                tool = self._tool_names.get(block.tool_use_id, "unknown")
                text = _text_of(block.content)[:_FAILURE_CHARS]
                self.tool_failures.append(ToolFailure(tool=tool, message=text))

    def _edited(self, path: str) -> None:
        candidate = Path(path)
        try:
            shown = str(candidate.relative_to(self._cwd)) if candidate.is_absolute() else path
        except ValueError:
            shown = path
        if shown not in self.edited:
            self.edited.append(shown)

    def usage(self) -> TokenUsage:
        """Usage as the SDK totalled it; without a result, summed over the replies seen."""
        if self.result is not None and self.result.usage:
            raw: dict[str, Any] = self.result.usage
            return TokenUsage(
                input=int(raw.get("input_tokens") or 0),
                output=int(raw.get("output_tokens") or 0),
                cache_read=int(raw.get("cache_read_input_tokens") or 0),
                cache_creation=int(raw.get("cache_creation_input_tokens") or 0),
            )
        totals = TokenUsage()
        for raw in self._usage_by_message.values():
            totals = TokenUsage(
                input=totals.input + int(raw.get("input_tokens") or 0),
                output=totals.output + int(raw.get("output_tokens") or 0),
                cache_read=totals.cache_read + int(raw.get("cache_read_input_tokens") or 0),
                cache_creation=totals.cache_creation
                + int(raw.get("cache_creation_input_tokens") or 0),
            )
        return totals

    def close(self) -> None:
        """Close the transcript file."""
        if self._out is not None:
            self._out.close()
            self._out = None
