"""Reading the prompt templates shipped with YokeFlow (or a folder of one's own)."""

from __future__ import annotations

from pathlib import Path

from yokeflow.core.prompts import SUFFIX, PromptTemplates
from yokeflow.errors import PromptError
from yokeflow.resources import resource_dir

__all__ = ["load_prompts"]


def load_prompts(directory: Path | None = None) -> PromptTemplates:
    """The templates of ``directory`` (default: the installation's ``prompts/`` folder)."""
    try:
        folder = directory if directory is not None else resource_dir("prompts")
        sources = {
            path.name: path.read_text(encoding="utf-8")
            for path in sorted(folder.glob(f"*{SUFFIX}"))
        }
    except (OSError, FileNotFoundError) as exc:
        raise PromptError(f"cannot read the prompt templates: {exc}") from None
    if not sources:
        raise PromptError(f"no prompt templates (*{SUFFIX}) in {folder}")
    return PromptTemplates(sources)
