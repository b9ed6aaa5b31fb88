"""Which project a reporting command is about: ``--project``, else the repository's marker.

Inside a repository where ``yokeflow run`` or ``yokeflow demo`` ran, ``.yokeflow/project.json``
(see :mod:`yokeflow.local.marker`) names the project and its database; ``--project NAME|ID``
and ``--database-url`` override it. Used by ``yokeflow costs`` and ``yokeflow expertise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from yokeflow.adapters.postgres import PostgresStore, open_store
from yokeflow.cli.output import say
from yokeflow.core.records import Project
from yokeflow.errors import ConfigError, NotFoundError
from yokeflow.local.marker import find_marker
from yokeflow.settings import Settings, load_settings

__all__ = ["DatabaseUrlOption", "ProjectOption", "Target", "open_target"]

ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="The project's name or id (default: the one the last run in this repository used).",
        show_default=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="A PostgreSQL URL (default: the repository's run, $YOKEFLOW_DATABASE_URL, else the embedded server).",
        show_default=False,
    ),
]


@dataclass
class Target:
    """The project, its open store, its repository (when known) and the settings there."""

    project: Project
    store: PostgresStore
    repo: Path | None
    settings: Settings


async def _find_project(store: PostgresStore, key: str) -> Project | None:
    if key.isdigit():
        found = await store.get_project(int(key))
        if found is not None:
            return found
    return await store.get_project_by_name(key)


async def open_target(
    project: str | None, database_url: str | None, cwd: Path | None = None
) -> Target:
    """Open the store and find the project; the caller closes ``target.store``."""
    here = cwd or Path.cwd()
    found = find_marker(here)
    repo = found[0] if found else None
    marker = found[1] if found else None
    if project is None and marker is None:
        raise ConfigError(
            f"no YokeFlow project in {here}: run this inside a repository where `yokeflow run`"
            " or `yokeflow demo` ran, or name one with --project"
        )
    settings = load_settings(repo or here)
    url = database_url
    if url is None and project is None and marker is not None:
        url = marker.database_url
    database = settings.database
    if url is not None:
        database = database.model_copy(update={"url": SecretStr(url)})
    store = await open_store(database, say)
    try:
        if project is not None:
            found_project = await _find_project(store, project)
            if found_project is None:
                raise NotFoundError(f"no project named or numbered {project!r} in the database")
            # a --project other than the marker's is not about this repository's files
            if marker is not None and found_project.id != marker.project_id:
                repo = None
        else:
            assert marker is not None
            found_project = await store.get_project(marker.project_id)
            if found_project is None:
                raise NotFoundError(
                    f"{repo}: the project of the last run (#{marker.project_id},"
                    f" {marker.project!r}) is not in its database any more"
                )
    except BaseException:
        await store.close()
        raise
    return Target(found_project, store, repo, settings)
