"""The rules a plan's values follow, shared by the plan's models and the plan outline.

:mod:`yokeflow.core.plan` states them as pydantic constraints; :mod:`yokeflow.core.plan_outline`
checks them on plain data without importing pydantic. Both read them from here, so that the two
cannot drift apart. Nothing here imports pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = [
    "KEY_PATTERN",
    "MAX_ESTIMATE_MINUTES",
    "PRIORITY_MAX",
    "PRIORITY_MIN",
    "STRIPPED",
    "epic_cycle",
]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A unique slug: letters, digits, '.', '_', '-' (at most 100)."""
PRIORITY_MIN = -(2**31)
PRIORITY_MAX = 2**31 - 1
"""A priority fits the database's INTEGER column."""
MAX_ESTIMATE_MINUTES = 1_000_000.0
"""Minutes, finite, at most about two years: sums of estimates stay finite."""
STRIPPED = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The characters stripped from both ends of every string of a plan: Unicode's White_Space,
exactly what the models' ``str_strip_whitespace`` removes (Python's ``str.strip()`` also takes
U+001C–U+001F, which the models keep)."""


def epic_cycle(depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """One cycle of epic dependencies (epic keys, in order), or [] when there is none.

    ``depends_on`` maps each epic's key to the keys it depends on, in plan order; keys that are
    not epics are ignored. Iterative depth-first search: a plan may hold thousands of epics.
    """
    deps = {key: list(on) for key, on in depends_on.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in deps:
        if start in state:
            continue
        path = [start]
        todo = [iter(deps[start])]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif nxt in deps and state.get(nxt) == 1:
                return path[path.index(nxt) :]
            elif nxt in deps and nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(deps[nxt]))
    return []
