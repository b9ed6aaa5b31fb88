"""The Anthropic Messages API as the scripted server speaks it: reading requests, writing replies.

Requests are read into a :class:`~yokeflow.core.scenario.Conversation` (the prompt, the task
header, the session's directory, the turn index); a :class:`~yokeflow.core.scenario.Reply` is
written as one message (non-streaming) or as the server-sent events of a streamed message.
Every reply gets a fresh message id: the CLI merges the content of replies sharing an id.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from yokeflow.core.scenario import Conversation, ErrorTurn, Reply, TextTurn, ToolTurn, Usage

__all__ = [
    "SIDE_REPLY",
    "RequestView",
    "error_body",
    "estimate_tokens",
    "message_body",
    "read_request",
    "stream_events",
]

TASK_HEADER = "x-yokeflow-task"
CWD_HEADER = "x-yokeflow-cwd"
SIDE_REPLY = "OK."
"""The answer to side requests (no tools offered: titles, summaries…); they are not turns."""

_REMINDER = "<system-reminder>"
_CWD_STATED = re.compile(r"Primary working directory:\s*(\S+)")


class WireError(ValueError):
    """A request the server cannot understand; answered with HTTP 400 and logged."""


@dataclass(frozen=True)
class RequestView:
    """What the server reads out of one ``POST /v1/messages`` request."""

    conversation: Conversation
    model: str
    stream: bool
    tools: tuple[str, ...]
    system: str
    side: bool
    """No tools offered: a side request of the CLI (a title, a summary), not a turn."""


def read_request(body: Any, headers: Mapping[str, str]) -> RequestView:
    """Read a request body (parsed JSON) and its headers (lower-case names)."""
    if not isinstance(body, dict):
        raise WireError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise WireError("'messages' must be a non-empty list")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireError("'model' must be a non-empty string")
    tools = tuple(str(t.get("name", "")) for t in body.get("tools") or [] if isinstance(t, dict))
    first_user = next(
        (m for m in messages if isinstance(m, dict) and m.get("role") == "user"), None
    )
    if first_user is None:
        raise WireError("no user message in 'messages'")
    texts = _texts(first_user.get("content"))
    prompt = "\n".join(t for t in texts if not t.lstrip().startswith(_REMINDER))
    stated = next((m.group(1) for t in texts if (m := _CWD_STATED.search(t))), None)
    turn = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
    conversation = Conversation(
        prompt=prompt,
        task=headers.get(TASK_HEADER) or None,
        cwd=headers.get(CWD_HEADER) or stated,
        turn=turn,
    )
    return RequestView(
        conversation=conversation,
        model=model,
        stream=bool(body.get("stream", False)),
        tools=tools,
        system="\n".join(_texts(body.get("system"))),
        side=not tools,
    )


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        ]
    return []


def _blocks(reply: Reply) -> tuple[list[dict[str, Any]], str]:
    turn = reply.turn
    if isinstance(turn, ToolTurn):
        blocks: list[dict[str, Any]] = []
        if turn.text:
            blocks.append({"type": "text", "text": turn.text})
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": turn.tool,
                "input": turn.input,
            }
        )
        return blocks, "tool_use"
    if isinstance(turn, TextTurn):
        return [{"type": "text", "text": turn.text}], "end_turn"
    raise TypeError(f"an error turn has no content: {turn!r}")


def _usage(usage: Usage) -> dict[str, int]:
    return usage.model_dump()


def message_body(reply: Reply, model: str) -> dict[str, Any]:
    """The whole reply as one non-streaming message."""
    blocks, stop = _blocks(reply)
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage(reply.usage),
    }


def stream_events(reply: Reply, model: str) -> Iterator[str]:
    """The reply as server-sent events, ``message_start`` to ``message_stop``."""
    blocks, stop = _blocks(reply)
    usage = _usage(reply.usage)
    start: dict[str, Any] = {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield _event("message_start", {"message": start})
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            yield _event(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            yield _event(
                "content_block_delta",
                {"index": index, "delta": {"type": "text_delta", "text": block["text"]}},
            )
        else:
            opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield _event("content_block_start", {"index": index, "content_block": opened})
            yield _event(
                "content_block_delta",
                {
                    "index": index,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": json.dumps(block["input"]),
                    },
                },
            )
        yield _event("content_block_stop", {"index": index})
    yield _event(
        "message_delta",
        {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage},
    )
    yield _event("message_stop", {})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"


def error_body(turn: ErrorTurn) -> dict[str, Any]:
    """The JSON body of a scripted failure, as the Anthropic API shapes errors."""
    return {
        "type": "error",
        "error": {"type": turn.error.error_type(), "message": turn.error.message},
    }


def estimate_tokens(body: Any) -> int:
    """A rough token count for ``count_tokens``: four characters a token."""
    return max(1, len(json.dumps(body)) // 4)
