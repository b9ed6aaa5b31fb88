"""The plan: epics and tasks with dependencies — what the planning agent produces, as data.

A plan file (YAML or JSON) is the hand-written form ("plan as code"). This module defines the
models, their validation, and :func:`parse_plan`, which turns the text of a file into a
:class:`Plan` or raises :class:`~yokeflow.errors.PlanError` naming the file, the location and
what was expected. It reads no files itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from yokeflow.core import plan_text
from yokeflow.core.plan_rules import (
    KEY_PATTERN,
    MAX_ESTIMATE_MINUTES,
    PRIORITY_MAX,
    PRIORITY_MIN,
    epic_cycle,
)
from yokeflow.core.pricing import pinned_model
from yokeflow.core.task_types import infer_task_type
from yokeflow.errors import PlanError

__all__ = [
    "MAX_ESTIMATE_MINUTES",
    "PRIORITY_MAX",
    "PRIORITY_MIN",
    "Dependency",
    "DependencyType",
    "Epic",
    "Estimate",
    "Plan",
    "Priority",
    "Task",
    "parse_plan",
    "plan_from_data",
    "plan_json_schema",
]

DependencyType = Literal["hard", "soft"]
Key = Annotated[str, Field(pattern=KEY_PATTERN)]
"""A unique slug: letters, digits, '.', '_', '-' (at most 100)."""
Priority = Annotated[int, Field(ge=PRIORITY_MIN, le=PRIORITY_MAX)]
"""A priority fits the database's INTEGER column."""
Estimate = Annotated[float, Field(gt=0, le=MAX_ESTIMATE_MINUTES, allow_inf_nan=False)]
"""Minutes, finite, at most about two years: sums of estimates stay finite."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, use_attribute_docstrings=True
    )


class Dependency(_Model):
    """One dependency written as an object, to mix hard and soft edges in one task."""

    key: Key
    """The task this task depends on."""
    type: DependencyType = "hard"
    """``hard`` blocks until the dependency is done; ``soft`` only orders."""


class Task(_Model):
    """One unit of work, run by one agent in its own worktree."""

    key: Key
    """Unique across the whole plan."""
    title: str = Field(min_length=1)
    """One line saying what the task does."""
    description: str = ""
    """What the agent needs to know to do it."""
    depends_on: list[Key | Dependency] = Field(default_factory=list)
    """Task keys (of any epic) this task depends on; an entry may be ``{key, type}``."""
    dependency_type: DependencyType = "hard"
    """The type of the plain-key entries of ``depends_on``."""
    estimate_minutes: Estimate = 1.0
    """Expected duration in minutes (at most 1,000,000), used for the critical path and scheduling."""
    priority: Priority = 0
    """Lower runs first among tasks that are ready together."""
    type: str | None = None
    """A free-form task type (``schema``, ``api``, ``ui``, ``test``…) used for model overrides;
    when omitted it is inferred from the title and description (``None`` when nothing fits)."""

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("type") and isinstance(data.get("title"), str):
            description = data.get("description")
            text = description if isinstance(description, str) else ""
            inferred = infer_task_type(data["title"], text)
            if inferred is not None:
                return {**data, "type": inferred}
        return data

    expects_changes: bool = True
    """False for a task meant to change no file (a check, an investigation): its session is then
    not a failed attempt for changing nothing."""
    model: str | None = None
    """Pins the model of every attempt of this task over the cost-based choice: a tier
    (``haiku``, ``sonnet``, ``opus``: the settings' model id of that tier) or a Claude model id
    (``claude-opus-4-5``). Conflict resolution of its branch still uses the run's model."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return pinned_model(value)
        except ValueError as exc:
            key = info.data.get("key")
            raise ValueError(f"task {key!r}: {exc}" if key else str(exc)) from None

    def dependencies(self) -> list[Dependency]:
        """Every dependency as a :class:`Dependency`, plain keys typed by ``dependency_type``."""
        return [
            d if isinstance(d, Dependency) else Dependency(key=d, type=self.dependency_type)
            for d in self.depends_on
        ]


class Epic(_Model):
    """A group of related tasks; an epic dependency makes every task wait for every task of the other."""

    key: Key
    """Unique among epics."""
    name: str = Field(min_length=1)
    """Human-readable name."""
    description: str = ""
    priority: Priority = 0
    """Lower runs first among equals."""
    depends_on: list[Key] = Field(default_factory=list)
    """Epic keys: every task here depends (hard) on every task of those epics."""
    tasks: list[Task] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_on_itself(self) -> Epic:
        if self.key in self.depends_on:
            raise ValueError(f"epic {self.key!r} depends on itself (an epic cycle)")
        return self


class Plan(_Model):
    """A whole plan: a name and its epics."""

    name: str = Field(min_length=1)
    """The project's name."""
    description: str = ""
    epics: list[Epic] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_are_unique(self) -> Plan:
        seen_epics: dict[str, int] = {}
        seen_tasks: dict[str, str] = {}
        for i, epic in enumerate(self.epics):
            if epic.key in seen_epics:
                raise ValueError(
                    f"epic key {epic.key!r} is used twice (epics[{seen_epics[epic.key]}] and epics[{i}])"
                )
            seen_epics[epic.key] = i
            for j, task in enumerate(epic.tasks):
                where = f"epics[{i}].tasks[{j}]"
                if task.key in seen_tasks:
                    raise ValueError(
                        f"task key {task.key!r} is used twice ({seen_tasks[task.key]} and {where})"
                    )
                seen_tasks[task.key] = where
        cycle = epic_cycle({e.key: e.depends_on for e in self.epics})
        if cycle:
            raise ValueError(f"epic cycle: {' -> '.join((*cycle, cycle[0]))}")
        return self

    def tasks(self) -> list[tuple[Epic, Task]]:
        """Every task with its epic, in file order."""
        return [(epic, task) for epic in self.epics for task in epic.tasks]


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of a plan file (generated into ``schema/plan.schema.json``)."""
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "YokeFlow plan"
    return schema


def parse_plan(text: str, source: str) -> Plan:
    """Parse the text of a plan file; ``source`` names it in errors (``.json`` selects JSON)."""
    return plan_from_data(plan_text.load(text, source), text, source)


def plan_from_data(data: Any, text: str, source: str) -> Plan:
    """Validate ``data`` read from ``text`` (:func:`yokeflow.core.plan_text.load`) into a plan.

    Raises :class:`~yokeflow.errors.PlanError` naming ``source``, the place (a YAML plan's
    line too) and what was expected.
    """
    if not isinstance(data, dict):
        raise PlanError(
            source,
            "top level",
            f"expected a mapping with 'name' and 'epics', got {plan_text.describe_kind(data)}",
        )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt field shows up as both "unknown" and "missing": name the typo first.
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(error["loc"])
        raise PlanError(
            source, _describe_location(text, source, loc), _describe_problem(error)
        ) from None


def _describe_problem(error: Any) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return f"unknown field {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return f"missing required field {error['loc'][-1]!r}"
    if error["type"] == "string_pattern_mismatch":
        return (
            f"expected a slug (letters, digits, '.', '_', '-'; at most 100), got {error['input']!r}"
        )
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    problem = msg[0].lower() + msg[1:] if msg else "invalid value"
    shown = repr(error.get("input"))
    if not isinstance(error.get("input"), (dict, list)) and len(shown) <= 60:
        problem += f", got {shown}"
    return problem


def _path(loc: Sequence[object]) -> str:
    # pydantic adds union-branch names (``str``, ``Dependency``) to locations; keep only the path.
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and re.fullmatch(r"[a-z_]+", item):
            parts.append(f".{item}" if parts else item)
    return "".join(parts) or "top level"


def _describe_location(text: str, source: str, loc: Sequence[object]) -> str:
    path = _path(loc)
    line = None if source.endswith(".json") else _yaml_line(text, loc)
    return f"line {line} ({path})" if line is not None else path


def _yaml_line(text: str, loc: Sequence[object]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    import yaml  # only a YAML plan gets here (see plan_text.load)

    try:
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for item in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(item, str):
            for k, v in node.value:
                if getattr(k, "value", None) == item:
                    nxt = k if item == loc[-1] else v
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value)
        ):
            nxt = node.value[item]
        node = nxt
    if node is not None:
        line = node.start_mark.line + 1
    return line
