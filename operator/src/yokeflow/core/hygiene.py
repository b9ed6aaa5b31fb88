"""Repository hygiene, as rules: which tracked paths should never be committed, and the standard
``.gitignore`` every generated project gets.

Agents install dependencies; a missing ``.gitignore`` then commits ``node_modules/`` or a
virtualenv (thousands of files, hundreds of MB) or a ``.env`` with secrets. These functions judge
lists of paths and ``.gitignore`` text; they read nothing. ``yokeflow.adapters.git_hygiene``
feeds them ``git ls-files`` and writes the fixed ``.gitignore``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEPENDENCY_DIRS",
    "GITIGNORE_HEADER",
    "STANDARD_GITIGNORE",
    "Finding",
    "classify_paths",
    "is_secret_like",
    "missing_gitignore_entries",
    "with_gitignore_entries",
]

STANDARD_GITIGNORE: tuple[str, ...] = (
    "node_modules/",
    "venv/",
    ".venv/",
    "__pycache__/",
    "*.pyc",
    ".env",
    "dist/",
    "build/",
    "coverage/",
    ".pytest_cache/",
)
"""The entries every project's ``.gitignore`` must have, committed before any install."""

DEPENDENCY_DIRS: frozenset[str] = frozenset(
    {
        "node_modules",
        "bower_components",
        "venv",
        ".venv",
        "__pycache__",
        "site-packages",
        ".tox",
        ".pytest_cache",
    }
)
"""Folder names that hold installed dependencies or caches, never source."""

_SECRET_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "credentials.json",
    "service-account*.json",
    ".npmrc",
    ".pypirc",
    ".netrc",
)
_SECRET_EXCEPTIONS: tuple[str, ...] = (".env.example", ".env.sample", ".env.template", ".env.dist")

GITIGNORE_HEADER = "# Added by YokeFlow: dependencies, caches, build output and secrets"


@dataclass(frozen=True)
class Finding:
    """Something committed that should not be."""

    kind: Literal["dependency", "secret"]
    path: str
    """The dependency folder (``web/node_modules``) or the secrets-like file."""
    files: int = 1
    """How many tracked files are under it."""

    @property
    def message(self) -> str:
        """One line for people."""
        if self.kind == "dependency":
            return f"dependency folder {self.path}/ is committed ({self.files} files)"
        return f"secrets-like file {self.path} is committed"


def is_secret_like(path: str) -> bool:
    """Whether a file's name looks like it holds credentials (``.env``, keys, tokens)."""
    name = path.rsplit("/", 1)[-1]
    if name in _SECRET_EXCEPTIONS:
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _SECRET_PATTERNS)


def _dependency_root(path: str) -> str | None:
    parts = path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in DEPENDENCY_DIRS:
            return "/".join(parts[: index + 1])
    return None


def classify_paths(paths: Iterable[str]) -> list[Finding]:
    """The findings for a list of tracked paths (``/``-separated, relative to the repository).

    Dependency folders come first (outermost folder, with a file count), then secrets-like files.
    """
    folders: dict[str, int] = {}
    secrets: list[str] = []
    for path in paths:
        root = _dependency_root(path)
        if root is not None:
            folders[root] = folders.get(root, 0) + 1
        elif is_secret_like(path):
            secrets.append(path)
    return [Finding("dependency", folder, count) for folder, count in sorted(folders.items())] + [
        Finding("secret", path) for path in sorted(secrets)
    ]


def _normalized(entry: str) -> str:
    # "node_modules" covers what "node_modules/" does (and files of that name); "/node_modules"
    # does not: it is anchored to the root and misses web/node_modules.
    return entry.strip().rstrip("/")


def missing_gitignore_entries(
    gitignore: str, required: Sequence[str] = STANDARD_GITIGNORE
) -> list[str]:
    """The ``required`` entries that the ``.gitignore`` text lacks (``node_modules`` counts as
    ``node_modules/``; the root-anchored ``/node_modules`` does not)."""
    present = {
        _normalized(line)
        for line in gitignore.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "!"))
    }
    return [entry for entry in required if _normalized(entry) not in present]


def with_gitignore_entries(gitignore: str, entries: Sequence[str]) -> str:
    """The ``.gitignore`` text with ``entries`` appended under a comment (unchanged if none)."""
    if not entries:
        return gitignore
    text = gitignore if not gitignore or gitignore.endswith("\n") else gitignore + "\n"
    block = "\n".join([GITIGNORE_HEADER, *entries]) + "\n"
    return f"{text}\n{block}" if text else block
