"""Dependency suggestions inferred from what tasks say — offered with a reason, never applied.

Two signals:

* **mention** — a task's text names another task's key, or quotes its title;
* **layering** — the common order schema → API → UI → tests, between tasks about the same subject
  (a shared significant word such as ``todo`` or ``users``).

A suggestion is dropped when the dependency already exists (directly or through an epic), or when
adding it would close a cycle.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from yokeflow.core.graph import DependencyGraph, GraphTask

__all__ = ["Suggestion", "layer_of", "suggest_dependencies"]

_LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "schema",
        frozenset(
            {
                "schema",
                "migration",
                "migrations",
                "database",
                "table",
                "tables",
                "model",
                "models",
                "db",
            }
        ),
    ),
    (
        "api",
        frozenset(
            {
                "api",
                "endpoint",
                "endpoints",
                "route",
                "routes",
                "handler",
                "handlers",
                "server",
                "rest",
                "graphql",
            }
        ),
    ),
    (
        "ui",
        frozenset(
            {
                "ui",
                "frontend",
                "page",
                "pages",
                "component",
                "components",
                "view",
                "views",
                "form",
                "screen",
            }
        ),
    ),
    ("tests", frozenset({"test", "tests", "e2e", "integration", "testing"})),
)
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "into",
        "that",
        "this",
        "then",
        "when",
        "each",
        "add",
        "create",
        "build",
        "make",
        "write",
        "implement",
        "update",
        "set",
        "up",
        "use",
        "using",
        "all",
        "new",
        "basic",
        "simple",
        "support",
        "list",
        "get",
        "post",
        "put",
        "delete",
        "crud",
    ]
)
_LAYER_WORDS = frozenset().union(*(words for _, words in _LAYERS))
_WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """``task`` probably depends on ``depends_on``; ``reason`` says why in one sentence."""

    task: str
    depends_on: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"task": self.task, "depends_on": self.depends_on, "reason": self.reason}


def _words(task: GraphTask) -> list[str]:
    return _WORD.findall(f"{task.title} {task.key}".lower().replace("-", " ").replace("_", " "))


def layer_of(task: GraphTask) -> int | None:
    """The task's layer (0 schema, 1 API, 2 UI, 3 tests) from its title and key, or None."""
    words = set(_words(task))
    found = [i for i, (_, vocab) in enumerate(_LAYERS) if words & vocab]
    return max(found) if found else None


def _subjects(task: GraphTask) -> set[str]:
    return {w for w in _words(task) if len(w) >= 4 and w not in _STOP and w not in _LAYER_WORDS}


def suggest_dependencies(graph: DependencyGraph, limit: int = 200) -> list[Suggestion]:
    """Suggested missing dependencies, in task order, at most ``limit``."""
    tasks = graph.tasks
    existing = {k: graph.hard_dependencies(k) | set(t.soft_depends_on) for k, t in tasks.items()}
    dependents: dict[str, set[str]] = {k: set() for k in tasks}
    for k, deps in existing.items():
        for d in deps:
            if d in dependents:
                dependents[d].add(k)
    out: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()

    def offer(task: str, dep: str, reason: str) -> None:
        pair = (task, dep)
        if task == dep or pair in seen or dep in existing[task] or _reaches(dependents, task, dep):
            return
        seen.add(pair)
        out.append(Suggestion(task, dep, reason))

    titles = {t.title.lower(): k for k, t in tasks.items() if len(t.title) >= 12}
    key_pattern = {
        k: re.compile(rf"(?<![\w-]){re.escape(k.lower())}(?![\w-])") for k in tasks if len(k) >= 3
    }
    layers = {k: layer_of(t) for k, t in tasks.items()}
    subjects = {k: _subjects(t) for k, t in tasks.items()}
    for key in (*graph.task_order, *graph.blocked):
        task = tasks[key]
        text = f"{task.title}\n{task.description}".lower()
        for other, pattern in key_pattern.items():
            if other != key and pattern.search(text):
                offer(key, other, f"its text names task {other!r}")
        for title, other in titles.items():
            if other != key and title in text:
                offer(key, other, f"its text quotes the title of {other!r}")
        mine = layers[key]
        if mine is None or mine == 0:
            continue
        for other, theirs in layers.items():
            shared = subjects[key] & subjects[other]
            if theirs is not None and theirs == mine - 1 and shared:
                offer(
                    key,
                    other,
                    f"{_LAYERS[mine][0]} work usually follows {_LAYERS[theirs][0]} work on the same "
                    f"subject ({', '.join(sorted(shared))})",
                )
        if len(out) >= limit:
            break
    return out[:limit]


def _reaches(dependents: dict[str, set[str]], start: str, goal: str) -> bool:
    """True when ``goal`` (transitively) depends on ``start`` — adding start→goal closes a cycle."""
    queue, seen = deque([start]), {start}
    while queue:
        v = queue.popleft()
        for w in dependents.get(v, ()):
            if w == goal:
                return True
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return False
