"""Where the files shipped beside the code live: migrations, prompts, examples.

In a wheel they are under ``yokeflow/_data/``; in a source checkout (editable install) they are
the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["resource_dir"]

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``schema``, ``prompts``, ``examples``) of this installation."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parents[2] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"yokeflow's {name!r} folder is missing from this installation")
