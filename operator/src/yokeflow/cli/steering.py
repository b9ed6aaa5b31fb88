"""What the steering commands share: the target project, a task named by key or id, text or JSON output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from yokeflow.cli.output import Format
from yokeflow.cli.project_target import Target, open_target
from yokeflow.core.records import Task
from yokeflow.errors import NotFoundError
from yokeflow.web.views import jsonable

__all__ = ["echo_data", "echo_json", "find_task", "with_target"]

T = TypeVar("T")


def with_target(
    project: str | None, database_url: str | None, action: Callable[[Target], Awaitable[T]]
) -> T:
    """Run ``action`` on the target project with its store open."""

    async def run() -> T:
        target = await open_target(project, database_url)
        try:
            return await action(target)
        finally:
            await target.store.close()

    return asyncio.run(run())


async def find_task(target: Target, ref: str) -> Task:
    """The project's task with key ``ref`` (or id, when it is a number)."""
    found = await target.store.get_task_by_key(target.project.id, ref)
    if found is None and ref.isdigit():
        found = await target.store.get_task(int(ref))
    if found is None or found.project_id != target.project.id:
        raise NotFoundError(f"no task {ref!r} in project {target.project.name!r}")
    return found


def echo_json(value: Any) -> None:
    """Print ``value`` as the API answers it (exact money, ISO times)."""
    typer.echo(json.dumps(jsonable(value), indent=2))


def echo_data(output: Format, value: Any) -> None:
    """Print ``value``: as the API answers it (``json``), or as indented ``key: value`` lines
    for people (``text``: the same data, YAML's block style)."""
    if output is Format.json:
        echo_json(value)
        return
    import yaml  # only text output needs it

    data = json.loads(json.dumps(jsonable(value)))  # the API's values: money and times as text
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), nl=False)
