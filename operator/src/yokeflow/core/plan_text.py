"""A plan file's text as plain data: JSON (when the source ends in ``.json``) or strict YAML.

Every failure is a :class:`~yokeflow.errors.PlanError` naming the source, the line and column
where known, and the problem: invalid syntax, a duplicate key (both formats refuse it instead of
keeping the last), nesting too deep. What the data must look like is the business of
:mod:`yokeflow.core.plan` and :mod:`yokeflow.core.plan_outline`. Reads no files.
"""

from __future__ import annotations

import json
from typing import Any

from yokeflow.errors import PlanError

__all__ = ["describe_kind", "load"]


def load(text: str, source: str) -> Any:
    """The data in ``text``; ``source`` names it in errors (``.json`` selects JSON)."""
    if source.endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise PlanError(
                source, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}"
            ) from None
        except _DuplicateKey as exc:
            raise PlanError(source, "", f"invalid JSON: duplicate key {exc.key!r}") from None
        except RecursionError:
            raise PlanError(source, "", "invalid JSON: nested too deeply") from None
    # Imported here: a JSON plan never needs the YAML reader, whose import costs more than
    # parsing a 10,000-task JSON plan.
    import yaml

    from yokeflow import strict_yaml

    try:
        return strict_yaml.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(source, where, f"invalid YAML: {problem}") from None


def describe_kind(value: object) -> str:
    """What a value is, as an error message says it (``a list``, ``an empty document``…)."""
    if value is None:
        return "an empty document"
    return {
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # rare: find the first key written twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
