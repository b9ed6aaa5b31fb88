"""The prompt renderer: strict about variables, clear about broken or unknown templates."""

from __future__ import annotations

import pytest

from yokeflow.core.prompts import PromptTemplates
from yokeflow.errors import PromptError


def test_variables_render_and_blank_runs_are_tidied() -> None:
    templates = PromptTemplates(
        {"hello.md.j2": "Hi {{ name }}!\n\n\n\n{% if extra %}x{% endif %}\n\nBye\n"}
    )
    assert templates.render("hello", {"name": "Ada", "extra": False}) == "Hi Ada!\n\nBye\n"
    assert templates.names() == ["hello"]


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    templates = PromptTemplates({"t.md.j2": "Task {{ task.title }} in {{ worktree }}\n"})
    with pytest.raises(PromptError, match="'worktree' is undefined"):
        templates.render("t", {"task": {"title": "x"}})
    with pytest.raises(PromptError, match="has no attribute 'title'"):
        templates.render("t", {"task": {}, "worktree": "/w"})


def test_missing_variables_in_conditions_are_errors_too() -> None:
    templates = PromptTemplates({"t.md.j2": "{% if expertise %}{{ expertise }}{% endif %}\n"})
    with pytest.raises(PromptError, match="'expertise' is undefined"):
        templates.render("t", {})


def test_partials_are_included_but_not_listed() -> None:
    templates = PromptTemplates(
        {
            "_part.md.j2": "part {{ gitignore_entries[0] }}",
            "main.md.j2": '{% include "_part.md.j2" %}',
        }
    )
    assert templates.names() == ["main"]
    assert templates.render("main.md.j2", {}) == "part node_modules/\n"


def test_unknown_and_broken_templates_are_named() -> None:
    templates = PromptTemplates({"bad.md.j2": "line one\n{% if %}\n"})
    with pytest.raises(PromptError, match=r"no prompt template 'nope\.md\.j2' \(known: bad\)"):
        templates.render("nope", {})
    with pytest.raises(PromptError, match=r"prompt template bad\.md\.j2, line 2"):
        templates.render("bad", {})
