"""The project marker: which project (and database) a repository's last run used.

``yokeflow run`` / ``yokeflow demo`` write ``.yokeflow/project.json`` in the repository they
ran on, so that ``status``, ``cancel``, ``costs``, ``expertise`` and ``run --resume`` run inside
that repository find the same project without being told. It may hold a database URL with a
password: it is created readable by its owner only (0600, in a 0700 folder), replaced atomically,
and excluded from git.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from yokeflow.adapters.private_files import write_private
from yokeflow.errors import ConfigError

__all__ = ["MARKER", "ProjectMarker", "find_marker", "read_marker", "write_marker"]

MARKER = Path(".yokeflow") / "project.json"


@dataclass(frozen=True, slots=True)
class ProjectMarker:
    project: str
    """The project's name (unique in its database)."""
    project_id: int
    database_url: str | None = None
    """None: the embedded server of the default data folder."""
    integration_branch: str = "yokeflow/integration"


def read_marker(repo: Path) -> ProjectMarker | None:
    """The marker of ``repo``, or None when it has none."""
    path = repo / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ProjectMarker(**data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not a YokeFlow project marker ({exc})") from None


def find_marker(start: Path) -> tuple[Path, ProjectMarker] | None:
    """The nearest marker at or above ``start``, with the repository folder holding it."""
    for folder in (start.resolve(), *start.resolve().parents):
        marker = read_marker(folder)
        if marker is not None:
            return folder, marker
    return None


def write_marker(repo: Path, marker: ProjectMarker) -> Path:
    path = write_private(repo / MARKER, json.dumps(asdict(marker), indent=2) + "\n")
    exclude = repo / ".git" / "info" / "exclude"
    if exclude.parent.is_dir():
        lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        wanted = [p for p in (str(MARKER), ".yokeflow/transcripts/") if p not in lines]
        if wanted:
            exclude.write_text("\n".join([*lines, *wanted]) + "\n", encoding="utf-8")
    return path
