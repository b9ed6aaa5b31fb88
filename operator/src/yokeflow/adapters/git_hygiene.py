"""Repository hygiene on a real checkout: what is committed that should not be, and the fix.

Runs when an agent session completes (the Claude adapter calls both). The rules are in
:mod:`yokeflow.core.hygiene`; this module only runs ``git ls-files`` and edits ``.gitignore``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from yokeflow.core.hygiene import (
    STANDARD_GITIGNORE,
    Finding,
    classify_paths,
    missing_gitignore_entries,
    with_gitignore_entries,
)
from yokeflow.errors import GitCommandError

__all__ = ["fix_gitignore", "is_git_repository", "validate_repository"]


def is_git_repository(path: Path) -> bool:
    """Whether ``path`` is inside a git working tree."""
    done = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "true"


def _tracked_files(repo: Path) -> list[str]:
    command = ["git", "-C", str(repo), "ls-files", "-z", "--cached"]
    done = subprocess.run(command, capture_output=True, check=False, timeout=120)
    if done.returncode != 0:
        raise GitCommandError(
            command, done.returncode, done.stderr.decode("utf-8", "replace").strip()
        )
    return [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def validate_repository(repo: Path) -> list[Finding]:
    """Committed dependency folders and secrets-like files of the checkout at ``repo``."""
    return classify_paths(_tracked_files(repo))


def fix_gitignore(repo: Path, required: tuple[str, ...] = STANDARD_GITIGNORE) -> list[str]:
    """Add the missing standard exclusions to ``repo/.gitignore``; returns what was added.

    The file is written, not committed (the session's commit picks it up). Files already
    tracked stay tracked: untracking them is a decision for people (see
    ``docs/exporting.md``).
    """
    path = repo / ".gitignore"
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    missing = missing_gitignore_entries(current, required)
    if missing:
        path.write_text(with_gitignore_entries(current, missing), encoding="utf-8")
    return missing
