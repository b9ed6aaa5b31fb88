"""A session's transcript as a person reads it: what ``yokeflow logs`` prints.

A transcript is JSON lines written by the Claude adapter: the ``request``, every SDK
``message`` (the model's text and tool calls, the tools' results, the CLI's init and result),
the CLI's ``stderr``, processes ``reaped`` at the end, and YokeFlow's ``result`` summary. Each
becomes zero or more short lines, stamped with the seconds since the session began. Pure: a line
of JSON (already parsed) in, text out; unknown or malformed lines are shown, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Rendered", "render_line", "render_transcript"]

_WIDTH = 160
"""Long texts (a tool's output, a prompt) are cut to this many characters per shown line."""
_LINES = 6
"""…and to this many lines."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One shown line: the seconds since the session began, a kind (for styling), the text."""

    seconds: float | None
    kind: str
    """``session``, ``say``, ``tool``, ``ok``, ``error``, ``info``, ``stderr`` or ``end``."""
    text: str

    def plain(self) -> str:
        stamp = f"[{self.seconds:6.1f}s]" if self.seconds is not None else " " * 9
        return f"{stamp} {self.text}"


def _short(text: str, lines: int = _LINES) -> str:
    parts = text.strip().splitlines() or [""]
    shown = [p if len(p) <= _WIDTH else p[: _WIDTH - 1] + "…" for p in parts[:lines]]
    if len(parts) > lines:
        shown.append(f"… ({len(parts) - lines} more lines)")
    return "\n          ".join(shown)


def _tool_call(name: str, arguments: Mapping[str, Any]) -> str:
    for key in ("command", "file_path", "notebook_path", "pattern", "path", "url", "query"):
        value = arguments.get(key)
        if isinstance(value, str):
            return f"{name}: {_short(value, 3)}"
    shown = json.dumps(dict(arguments), ensure_ascii=False, default=str)
    return f"{name} {shown if len(shown) <= _WIDTH else shown[: _WIDTH - 1] + '…'}"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return "" if content is None else str(content)


def _message(message: Mapping[str, Any], seconds: float | None) -> Iterator[Rendered]:
    kind = message.get("type")
    if kind == "SystemMessage":
        data = message.get("data") or {}
        if message.get("subtype") == "init" and isinstance(data, Mapping):
            servers = ", ".join(
                f"{s.get('name')} {s.get('status')}"
                for s in data.get("mcp_servers") or []
                if isinstance(s, Mapping)
            )
            yield Rendered(
                seconds,
                "info",
                f"CLI started: model {data.get('model')}, {len(data.get('tools') or [])} tools"
                + (f", MCP: {servers}" if servers else ""),
            )
        return
    if kind == "AssistantMessage":
        if message.get("error"):
            yield Rendered(seconds, "error", f"model error: {message.get('error')}")
        for block in message.get("content") or []:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "TextBlock" and str(block.get("text", "")).strip():
                yield Rendered(seconds, "say", f"says: {_short(str(block['text']))}")
            elif block.get("type") == "ToolUseBlock":
                arguments = block.get("input")
                yield Rendered(
                    seconds,
                    "tool",
                    "→ "
                    + _tool_call(
                        str(block.get("name")),
                        arguments if isinstance(arguments, Mapping) else {},
                    ),
                )
        return
    if kind == "UserMessage":
        for block in message.get("content") or []:
            if isinstance(block, Mapping) and block.get("type") == "ToolResultBlock":
                text = _short(_content_text(block.get("content")), 3) or "(no output)"
                failed = bool(block.get("is_error"))
                yield Rendered(seconds, "error" if failed else "ok", f"← {text}")
        return
    if kind == "ResultMessage":
        cost = message.get("total_cost_usd")
        dollars = f", ${cost:.4f}" if isinstance(cost, int | float) else ""
        yield Rendered(
            seconds,
            "error" if message.get("is_error") else "info",
            f"CLI result: {message.get('subtype')}, {message.get('num_turns')} turns{dollars}",
        )
        return
    # Stream events and message kinds of newer SDKs: nothing a reader needs.


def render_line(line: Mapping[str, Any], started: float | None) -> list[Rendered]:
    """The shown lines of one transcript line (``started``: the session's first ``at``)."""
    at = line.get("at")
    seconds = at - started if isinstance(at, int | float) and started is not None else None
    kind = line.get("kind")
    if kind == "request":
        head = f"session of {line.get('task') or 'no task'} on {line.get('model')} in {line.get('cwd')}"
        prompt = _short(str(line.get("prompt") or ""), 3)
        return [Rendered(seconds, "session", head), Rendered(seconds, "info", f"prompt: {prompt}")]
    if kind == "message":
        message = line.get("message")
        return list(_message(message, seconds)) if isinstance(message, Mapping) else []
    if kind == "stderr":
        return [Rendered(seconds, "stderr", f"stderr: {line.get('line')}")]
    if kind == "reaped":
        return [Rendered(seconds, "info", f"ended leftover processes {line.get('pids')}")]
    if kind == "result":
        result = line.get("result")
        if not isinstance(result, Mapping):
            return [Rendered(seconds, "end", "ended")]
        verdict = "succeeded" if result.get("success") else f"failed ({result.get('end')})"
        error = f": {result['error']}" if result.get("error") else ""
        files = result.get("files_modified") or []
        return [
            Rendered(
                seconds,
                "end" if result.get("success") else "error",
                f"session {verdict}{error} — {result.get('num_turns')} turns, "
                f"${result.get('total_cost_usd')}, {result.get('duration_seconds')} s, "
                f"{len(files)} files changed",
            )
        ]
    return [Rendered(seconds, "info", f"{kind}: {json.dumps(dict(line), default=str)[:_WIDTH]}")]


def render_transcript(lines: Iterable[str]) -> Iterator[Rendered]:
    """Every shown line of a transcript's raw lines, in order."""
    started: float | None = None
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            yield Rendered(None, "stderr", f"(not JSON) {raw.strip()[:_WIDTH]}")
            continue
        if not isinstance(line, Mapping):
            yield Rendered(None, "stderr", f"(not an object) {raw.strip()[:_WIDTH]}")
            continue
        if started is None and isinstance(line.get("at"), int | float):
            started = float(line["at"])
        yield from render_line(line, started)
