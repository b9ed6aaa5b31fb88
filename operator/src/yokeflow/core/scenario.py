"""Scenarios of the scripted model server: which reply a conversation gets, as data.

A scenario file (YAML) scripts the model: ``rules`` are tried in order — a ``task:`` rule matches
the ``X-Yokeflow-Task`` header exactly, a ``match:`` rule matches the conversation's first user
prompt (a substring, or ``/regex/``) — and the first that matches answers; ``default`` answers
everything else. A rule's ``turns`` are the model's replies, one per call of that conversation:
the N-th call (N = the number of assistant messages already in the request) gets turn N.

This module parses scenario files (:func:`parse_scenario`, raising
:class:`~yokeflow.errors.ScenarioError` that names the file, the place and the problem) and
decides replies (:func:`choose_reply`). It does no I/O: the HTTP server lives in
``yokeflow.adapters.scripted_model``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yokeflow.errors import ScenarioError

__all__ = [
    "Conversation",
    "ErrorTurn",
    "Reply",
    "Rule",
    "Scenario",
    "ScriptedError",
    "TextTurn",
    "ToolTurn",
    "Turn",
    "Usage",
    "choose_reply",
    "expand_cwd",
    "parse_scenario",
]

FINAL_TEXT = "Done."
"""What a conversation gets once its rule's turns are used up (the CLI called once more)."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Usage(_Model):
    """Token usage reported with every reply of a rule (the CLI prices it into ``total_cost_usd``)."""

    input_tokens: int = Field(default=100, ge=0)
    output_tokens: int = Field(default=20, ge=0)
    cache_read_input_tokens: int = Field(default=0, ge=0)
    cache_creation_input_tokens: int = Field(default=0, ge=0)


class ToolTurn(_Model):
    """A reply that calls one tool; the CLI runs it and calls the model again with the result."""

    tool: str = Field(min_length=1)
    """The tool's name as the CLI offers it: ``Write``, ``Bash``, ``mcp__<server>__<tool>``…"""
    input: dict[str, Any] = Field(default_factory=dict)
    """The tool's arguments; ``{cwd}`` in any string expands to the session's directory."""
    text: str | None = None
    """Optional text said before the tool call."""


class TextTurn(_Model):
    """A reply that only says something; it ends the agent's turn (``end_turn``)."""

    text: str


class ScriptedError(_Model):
    """An HTTP error the server answers instead of a reply (simulates a failing model)."""

    status: int = Field(ge=400, le=599)
    """The HTTP status: 529 overloaded, 500 api error, 429 rate limit, 400 invalid request…"""
    message: str = "scripted failure"
    """The error message the CLI reports."""
    type: str | None = None
    """The Anthropic error type; derived from ``status`` when omitted."""
    retry: bool = False
    """Let the CLI retry the call (sent as ``x-should-retry``); retries get this error again."""

    def error_type(self) -> str:
        """The Anthropic error type of this failure."""
        return self.type or _ERROR_TYPES.get(self.status, "api_error")


class ErrorTurn(_Model):
    """A turn that fails: the server answers the call with an HTTP error."""

    error: ScriptedError


Turn = ToolTurn | TextTurn | ErrorTurn


def _nothing_to_do() -> list[Turn]:
    return [TextTurn(text="Nothing to do.")]


class Rule(_Model):
    """How one kind of conversation is answered."""

    task: str | None = None
    """Matches the ``X-Yokeflow-Task`` header exactly."""
    match: str | None = None
    """A substring of the first user prompt, or ``/regex/`` searched in it."""
    delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    """Simulated thinking time before the first byte of every reply."""
    usage: Usage = Field(default_factory=Usage)
    """Usage reported with every reply."""
    turns: list[Turn] = Field(min_length=1)
    """One model reply per call of the conversation, in order."""

    @model_validator(mode="after")
    def _one_selector(self) -> Rule:
        if (self.task is None) == (self.match is None):
            raise ValueError("a rule needs exactly one of 'task' or 'match'")
        if self.match is not None and _is_regex(self.match):
            try:
                re.compile(self.match[1:-1])
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.match!r}: {exc}") from None
        return self

    def matches(self, conversation: Conversation) -> bool:
        """Whether this rule answers ``conversation``."""
        if self.task is not None:
            return conversation.task == self.task
        assert self.match is not None  # the validator guarantees one selector
        if _is_regex(self.match):
            return re.search(self.match[1:-1], conversation.prompt) is not None
        return self.match in conversation.prompt

    def label(self, index: int) -> str:
        """How logs and records name this rule."""
        selector = f"task={self.task}" if self.task is not None else f"match={self.match}"
        return f"rules[{index}] ({selector})"


class Scenario(_Model):
    """A whole scenario file."""

    default: list[Turn] = Field(default_factory=lambda: _nothing_to_do())
    """The turns of conversations no rule matches."""
    default_delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    """Thinking time of the default replies."""
    default_usage: Usage = Field(default_factory=Usage)
    """Usage of the default replies."""
    rules: list[Rule] = Field(default_factory=list)
    """Tried in order; the first that matches answers."""


@dataclass(frozen=True)
class Conversation:
    """What the server knows about one request of a conversation."""

    prompt: str
    """The first user message's own text (the CLI's system reminders left out)."""
    task: str | None = None
    """The ``X-Yokeflow-Task`` header, if sent."""
    cwd: str | None = None
    """The session's directory: the ``X-Yokeflow-Cwd`` header, else the one the CLI stated."""
    turn: int = 0
    """How many assistant messages the request already holds: this call answers turn ``turn``."""


@dataclass(frozen=True)
class Reply:
    """The decision for one call: which turn answers, from which rule, after how long."""

    turn: Turn
    rule: str
    """``rules[i] (...)``, ``default``, or ``… exhausted`` when the turns ran out."""
    delay_seconds: float
    usage: Usage
    matched: bool
    """False when no rule matched and ``default`` answered."""


def _is_regex(pattern: str) -> bool:
    return len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/")


def choose_reply(scenario: Scenario, conversation: Conversation) -> Reply:
    """The reply to the ``conversation.turn``-th call of a conversation, ``{cwd}`` expanded."""
    for index, rule in enumerate(scenario.rules):
        if rule.matches(conversation):
            return _pick(
                rule.turns, rule.label(index), rule.delay_seconds, rule.usage, conversation, True
            )
    return _pick(
        scenario.default,
        "default",
        scenario.default_delay_seconds,
        scenario.default_usage,
        conversation,
        False,
    )


def _pick(
    turns: Sequence[Turn],
    label: str,
    delay: float,
    usage: Usage,
    conversation: Conversation,
    matched: bool,
) -> Reply:
    if conversation.turn < len(turns):
        turn = turns[conversation.turn]
    else:
        turn, label = TextTurn(text=FINAL_TEXT), f"{label} exhausted"
    return Reply(
        turn=expand_cwd(turn, conversation.cwd),
        rule=label,
        delay_seconds=delay,
        usage=usage,
        matched=matched,
    )


def expand_cwd(turn: Turn, cwd: str | None) -> Turn:
    """``turn`` with ``{cwd}`` replaced in every string (left as is when the cwd is unknown)."""
    if cwd is None:
        return turn
    if isinstance(turn, ToolTurn):
        return turn.model_copy(
            update={
                "input": _expand(turn.input, cwd),
                "text": None if turn.text is None else turn.text.replace("{cwd}", cwd),
            }
        )
    if isinstance(turn, TextTurn):
        return turn.model_copy(update={"text": turn.text.replace("{cwd}", cwd)})
    return turn


def _expand(value: Any, cwd: str) -> Any:
    if isinstance(value, str):
        return value.replace("{cwd}", cwd)
    if isinstance(value, Mapping):
        return {k: _expand(v, cwd) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, cwd) for v in value]
    return value


def parse_scenario(text: str, source: str) -> Scenario:
    """Parse the text of a scenario file; ``source`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{source}:{where} invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: expected a mapping with 'default' and/or 'rules', got {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        error = _best_error(exc, data)
        where = _location(error["loc"])
        raise ScenarioError(f"{source}: {where}: {_problem(error)}") from None


_TURN_BRANCHES = {"ToolTurn", "TextTurn", "ErrorTurn"}


def _best_error(exc: ValidationError, data: Any) -> Any:
    """The most useful of pydantic's errors: for a turn, only the union branch its keys select."""
    errors = exc.errors(include_url=False)
    relevant = [e for e in errors if not _in_other_branch(tuple(e["loc"]), data)] or errors
    # A misspelt key also shows up as a missing one: naming the unknown key helps more.
    return next((e for e in relevant if e["type"] == "extra_forbidden"), relevant[0])


def _in_other_branch(loc: tuple[Any, ...], data: Any) -> bool:
    """Whether ``loc`` is inside a union branch that the turn's keys do not select."""
    node = data
    for index, part in enumerate(loc):
        if part in _TURN_BRANCHES:
            if not isinstance(node, dict):
                return index + 1 < len(loc)  # keep the branch-level "not a mapping" error once
            wanted = next(
                (
                    b
                    for k, b in (("tool", "ToolTurn"), ("error", "ErrorTurn"), ("text", "TextTurn"))
                    if k in node
                ),
                "TextTurn",
            )
            return bool(part != wanted)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return False


def _location(loc: Sequence[object]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in _TURN_BRANCHES:
            continue
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or "top level"


def _problem(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown field {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return f"missing required field {error['loc'][-1]!r}"
    if error["type"] == "model_type" and error["loc"] and error["loc"][-1] in _TURN_BRANCHES:
        return "expected a turn: a mapping with 'tool', 'text' or 'error'"
    msg = str(error["msg"]).removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else "invalid value"
