"""A task's type inferred from its title and description when the plan gives none.

The type keys model overrides (``cost.model_overrides``: ``{"test": "haiku"}``) and the cost
report's "by task type". A task with no type would miss both; its text usually says what it is.
Documentation is recognised by its own words; everything else follows the task's domain
(:func:`~yokeflow.core.domains.classify_domain`): ``database`` → ``schema``, ``api`` → ``api``,
``frontend`` → ``ui``, ``testing`` → ``test``, ``security`` → ``security``, ``deployment`` →
``deploy``. A ``general`` task keeps no type.
"""

from __future__ import annotations

from yokeflow.core.domains import classify_domain
from yokeflow.core.task_brief import words

__all__ = ["DOMAIN_TYPES", "infer_task_type"]

DOMAIN_TYPES = {
    "database": "schema",
    "api": "api",
    "frontend": "ui",
    "testing": "test",
    "security": "security",
    "deployment": "deploy",
}
_DOC_WORDS = frozenset(
    ["docs", "doc", "documentation", "readme", "guide", "tutorial", "changelog", "docstrings"]
)


def infer_task_type(title: str, description: str = "") -> str | None:
    """The type a task's text points to, or None when it points nowhere in particular."""
    if _DOC_WORDS & set(words(title)):
        return "docs"
    return DOMAIN_TYPES.get(classify_domain(title, description))
