"""A plan's outline: what the resolver needs from a plan's data, checked without its models.

Validating a 10,000-task plan through the pydantic models of :mod:`yokeflow.core.plan` costs more
than resolving it, and importing them more again; ``yokeflow graph`` and ``yokeflow simulate``
need neither. :func:`outline` checks the data that :func:`yokeflow.core.plan_text.load` returns
against the same rules (:mod:`yokeflow.core.plan_rules`) and returns the resolver's input, or
None the moment anything is not plainly valid: a missing or unknown field, a value of another
type (even one the models would convert, such as ``"3"`` for a number), a value out of range,
a duplicate key, an epic cycle. The caller then validates through the models, which explain the
problem in one sentence — or accept the conversion. So a plan is refused with the same words
whichever path it takes, and a plan accepted here resolves exactly as through the models (a
property test compares both on generated data).

Nothing here imports pydantic; the model catalogue (:mod:`yokeflow.core.pricing`) is imported
only for a plan that pins a model on a task.
"""

from __future__ import annotations

import re
from typing import Any

from yokeflow.core.graph import GraphEpic, GraphTask
from yokeflow.core.plan_rules import (
    KEY_PATTERN,
    MAX_ESTIMATE_MINUTES,
    PRIORITY_MAX,
    PRIORITY_MIN,
    STRIPPED,
    epic_cycle,
)

__all__ = ["Outline", "outline"]

Outline = tuple[list[GraphTask], list[GraphEpic]]
"""The tasks and the epics of a plan, in plan order, as :func:`yokeflow.core.graph.resolve`
takes them."""

_PLAN_FIELDS = frozenset({"name", "description", "epics"})
_EPIC_FIELDS = frozenset({"key", "name", "description", "priority", "depends_on", "tasks"})
_TASK_FIELDS = frozenset(
    {
        "key",
        "title",
        "description",
        "depends_on",
        "dependency_type",
        "estimate_minutes",
        "priority",
        "type",
        "expects_changes",
        "model",
    }
)
_DEPENDENCY_FIELDS = frozenset({"key", "type"})
_DEPENDENCY_TYPES = frozenset({"hard", "soft"})
_NONE: list[Any] = []  # a missing list, never changed
_is_key = re.compile(KEY_PATTERN.removeprefix("^").removesuffix("$")).fullmatch


class _NotPlain(Exception):
    """The data is not plainly valid: the models must look at it."""


def outline(data: Any) -> Outline | None:
    """The resolver's input for valid plan ``data``; None when the models must look at it."""
    try:
        return _outline(data)
    except _NotPlain:
        return None


def _outline(data: Any) -> Outline:
    if type(data) is not dict or not data.keys() <= _PLAN_FIELDS:
        raise _NotPlain
    if not _text(data.get("name")) or type(data.get("description", "")) is not str:
        raise _NotPlain
    epics = data.get("epics")
    if type(epics) is not list or not epics:
        raise _NotPlain
    tasks: list[GraphTask] = []
    graph_epics: list[GraphEpic] = []
    referenced: set[Any] = set()  # every task key named as a dependency
    for epic in epics:
        if type(epic) is not dict or not epic.keys() <= _EPIC_FIELDS:
            raise _NotPlain
        key = _key(epic.get("key"))
        name = _text(epic.get("name"))
        depends_on = epic.get("depends_on", _NONE)
        if not name or type(epic.get("description", "")) is not str or type(depends_on) is not list:
            raise _NotPlain
        epic_deps = tuple([_key(d) for d in depends_on])
        if key in epic_deps:
            raise _NotPlain
        graph_epics.append(GraphEpic(key, name, _priority(epic.get("priority", 0)), epic_deps))
        epic_tasks = epic.get("tasks", _NONE)
        if type(epic_tasks) is not list:
            raise _NotPlain
        tasks.extend([_task(task, key, referenced) for task in epic_tasks])
    task_keys = {t.key for t in tasks}
    if len(task_keys) != len(tasks):
        raise _NotPlain
    # A dependency on a task of the plan is a valid key; the others (unknown to the graph, but
    # valid keys all the same) are checked here, once each.
    for key in referenced - task_keys:
        _key(key)
    by_key = {e.key: e.depends_on for e in graph_epics}
    if len(by_key) != len(graph_epics) or epic_cycle(by_key):
        raise _NotPlain
    return tasks, graph_epics


def _task(task: Any, epic: str, referenced: set[Any]) -> GraphTask:
    if type(task) is not dict or not task.keys() <= _TASK_FIELDS:
        raise _NotPlain
    get = task.get
    key = _key(get("key"))
    title = _text(get("title"))
    description = get("description", "")
    entries = get("depends_on", _NONE)
    plain = get("dependency_type", "hard")
    if not title or type(description) is not str or type(entries) is not list:
        raise _NotPlain
    if type(plain) is not str or plain not in _DEPENDENCY_TYPES:
        raise _NotPlain
    hard: tuple[str, ...] = ()
    soft: tuple[str, ...] = ()
    if entries:
        try:
            keys = tuple(entries)
            referenced.update(keys)  # checked by the caller, once per key
        except TypeError:  # an entry is a mapping ({key, type}) or a list
            hard, soft = _typed_dependencies(entries, plain, referenced)
        else:
            if plain == "hard":
                hard = keys
            else:
                soft = keys
    kind = get("type")
    if kind is not None and type(kind) is not str:
        raise _NotPlain
    if type(get("expects_changes", True)) is not bool:
        raise _NotPlain
    model = get("model")
    if model is not None:
        _pinned(model)
    return GraphTask(
        key,
        epic,
        title,
        description.strip(STRIPPED),
        hard,
        soft,
        _estimate(get("estimate_minutes", 1.0)),
        _priority(get("priority", 0)),
    )


def _typed_dependencies(
    entries: list[Any], plain: str, referenced: set[Any]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The hard and the soft dependencies of ``depends_on`` entries, some written as ``{key, type}``."""
    hard: list[str] = []
    soft: list[str] = []
    for entry in entries:
        if type(entry) is dict and entry.keys() <= _DEPENDENCY_FIELDS:
            key, kind = entry.get("key"), entry.get("type", "hard")
            if type(kind) is not str or kind not in _DEPENDENCY_TYPES:
                raise _NotPlain
        elif type(entry) is str:
            key, kind = entry, plain
        else:
            raise _NotPlain
        key = _key(key)
        referenced.add(key)
        (hard if kind == "hard" else soft).append(key)
    return tuple(hard), tuple(soft)


def _text(value: Any) -> str:
    """A string, stripped as the models strip it ('' when blank)."""
    if type(value) is not str:
        raise _NotPlain
    text: str = value.strip(STRIPPED)
    return text


def _key(value: Any) -> str:
    """A key as written; one with white space around it is left to the models (they strip it)."""
    if type(value) is not str or not _is_key(value):
        raise _NotPlain
    key: str = value
    return key


def _priority(value: Any) -> int:
    if type(value) is not int or not PRIORITY_MIN <= value <= PRIORITY_MAX:
        raise _NotPlain
    priority: int = value
    return priority


def _estimate(value: Any) -> float:
    kind = type(value)
    # NaN fails the comparison too; a huge integer is out of range before it becomes a float.
    if (kind is not float and kind is not int) or not 0 < value <= MAX_ESTIMATE_MINUTES:
        raise _NotPlain
    return float(value)


def _pinned(model: Any) -> None:
    """A pinned model the catalogue knows (the models raise the error otherwise)."""
    if type(model) is not str:
        raise _NotPlain
    from yokeflow.core.pricing import pinned_model  # only plans that pin a model need it

    try:
        pinned_model(model.strip(STRIPPED))
    except ValueError:
        raise _NotPlain from None
