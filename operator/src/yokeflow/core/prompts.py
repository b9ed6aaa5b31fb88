"""Prompt templates (Jinja2) and their rendering, strict about variables.

The templates live in the repository's ``prompts/`` folder (shipped as package data): planning,
task execution, merge-conflict resolution and expertise extraction; files whose names start
with ``_`` are partials they include. Rendering is pure: :class:`PromptTemplates` gets the
templates' text; ``yokeflow.adapters.prompt_files`` reads them from disk. A variable a template
uses but was not given is an error (:class:`~yokeflow.errors.PromptError`), never an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from yokeflow.core.hygiene import STANDARD_GITIGNORE
from yokeflow.errors import PromptError

__all__ = ["PROMPTS", "SUFFIX", "PromptTemplates"]

SUFFIX = ".md.j2"
PROMPTS = ("planning", "task", "merge_resolution", "expertise_extraction")
"""The prompts every installation has (``prompts/<name>.md.j2``)."""


class PromptTemplates:
    """A set of prompt templates, by file name (``task.md.j2``), ready to render."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = dict(sources)
        self._env = jinja2.Environment(
            loader=jinja2.DictLoader(self._sources),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # Markdown for a model, not HTML
            keep_trailing_newline=True,
            trim_blocks=False,
        )
        self._env.globals["gitignore_entries"] = list(STANDARD_GITIGNORE)

    def names(self) -> list[str]:
        """The renderable prompts (partials left out), without the suffix."""
        return sorted(
            n.removesuffix(SUFFIX)
            for n in self._sources
            if n.endswith(SUFFIX) and not n.startswith("_")
        )

    def render(self, name: str, variables: Mapping[str, Any]) -> str:
        """Render prompt ``name`` (``task`` or ``task.md.j2``) with ``variables``."""
        file = name if name.endswith(SUFFIX) else f"{name}{SUFFIX}"
        try:
            template = self._env.get_template(file)
            text = template.render(**variables)
        except jinja2.TemplateNotFound as exc:
            known = ", ".join(self.names()) or "none"
            raise PromptError(f"no prompt template {exc.name!r} (known: {known})") from None
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(
                f"prompt template {exc.name or file}, line {exc.lineno}: {exc.message}"
            ) from None
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt template {file}: {exc.message}") from None
        return _tidy(text)


def _tidy(text: str) -> str:
    """At most one blank line in a row, one final newline: templates with optional sections
    leave gaps."""
    lines: list[str] = []
    for line in text.rstrip().splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines) + "\n"
