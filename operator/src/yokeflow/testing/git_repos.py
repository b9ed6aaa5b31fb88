"""Real git repositories for tests: create one, run git in it, commit a file.

Synchronous on purpose: a test drives git the way a person at a terminal would, while the code
under test runs its own (asynchronous) git.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["commit_file", "git", "make_repository"]


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run ``git <args>`` in ``cwd``; its stripped output (raises AssertionError on failure)."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def commit_file(worktree: Path, name: str, text: str, message: str | None = None) -> str:
    """Write ``name`` in ``worktree``, commit it, return the new commit id."""
    path = worktree / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    git(worktree, "add", "--", name)
    git(worktree, "commit", "-q", "-m", message or f"edit {name}")
    return git(worktree, "rev-parse", "HEAD")


def make_repository(root: Path, files: Mapping[str, str] | None = None) -> Path:
    """A repository at ``root`` on branch ``main`` with one commit holding ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "commit.gpgsign", "false")
    default = {"README.md": "hello\n", "app.py": "a = 1\nb = 2\nc = 3\n"}
    for name, text in (files if files is not None else default).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "initial")
    return root
