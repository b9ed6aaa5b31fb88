"""``yokeflow run``, ``plan`` and ``cancel``: a project's run on this machine."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from yokeflow.cli.planfile import read_plan
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, open_target
from yokeflow.core.graph import graph_from_records
from yokeflow.core.pictures import to_ascii
from yokeflow.errors import ConfigError
from yokeflow.local.engine import CANCEL_FLAG, open_engine
from yokeflow.local.report import build_report
from yokeflow.local.run import RunRequest, prepare_project, run_local
from yokeflow.settings import load_settings

__all__ = ["cancel", "plan", "run"]


class Schedule(StrEnum):
    eager = "eager"
    batches = "batches"


RepoOption = Annotated[Path, typer.Option("--repo", help="The git repository the agents work on.")]
SpecOption = Annotated[
    Path | None,
    typer.Option("--spec", help="An application spec: a planning agent turns it into a plan."),
]
PlanOption = Annotated[
    Path | None, typer.Option("--plan", help="A plan file (YAML or JSON): skips planning.")
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="The project's name (default: the plan's or the folder's)."),
]


def _request(
    repo: Path,
    spec: Path | None,
    plan_file: Path | None,
    name: str | None,
    resume: bool,
    endpoint: str | None,
) -> RunRequest:
    if sum(x is not None for x in (spec, plan_file)) + resume != 1:
        raise ConfigError("give exactly one of --spec FILE, --plan FILE or --resume")
    text = None
    if spec is not None:
        try:
            text = spec.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{spec}: cannot read the spec: {exc.strerror}") from None
    return RunRequest(
        repo=repo.resolve(),
        plan=read_plan(plan_file) if plan_file is not None else None,
        spec=text,
        name=name,
        resume=resume,
        model_endpoint=endpoint,
    )


def run(
    repo: RepoOption = Path("."),
    spec: SpecOption = None,
    plan_file: PlanOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue this repository's last run.")
    ] = False,
    name: NameOption = None,
    parallel: Annotated[
        bool, typer.Option("--parallel/--sequential", help="Run independent tasks side by side.")
    ] = True,
    max_concurrency: Annotated[
        int | None,
        typer.Option("--max-concurrency", min=1, max=64, help="Agents at once (default 3)."),
    ] = None,
    schedule: Annotated[
        Schedule | None, typer.Option("--schedule", help="eager (default) or batches.")
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", min=0.0, help="The run's budget in USD.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="PostgreSQL URL (default: embedded).")
    ] = None,
    model_endpoint: Annotated[
        str | None,
        typer.Option(
            "--model-endpoint",
            help="An Anthropic Messages API base URL (e.g. the scripted model server).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the final report as JSON.")
    ] = False,
) -> None:
    """Plan (or load a plan), then run every task as its own agent in its own worktree.

    Finished tasks are merged into the branch yokeflow/integration; your checkout is never
    switched. Ctrl-C (or `yokeflow cancel`) stops the agents and keeps their work; continue with
    --resume. Exits 0 when every task merged, 1 otherwise, 3 when the budget ran out.
    """
    request = _request(repo, spec, plan_file, name, resume, model_endpoint)
    overrides: dict[str, dict[str, Any]] = {"parallel": {"enabled": parallel}}
    if max_concurrency is not None:
        overrides["parallel"]["max_concurrency"] = max_concurrency
    if schedule is not None:
        overrides["parallel"]["schedule"] = schedule.value
    if budget is not None:
        overrides["cost"] = {"budget_limit_usd": budget}
    if database_url is not None:
        overrides["database"] = {"url": database_url}
    settings = load_settings(request.repo, overrides=overrides)
    console = Console(stderr=as_json)
    outcome = asyncio.run(run_local(settings, request, console))
    concurrency = settings.parallel.agents
    report = build_report(
        outcome.graph,
        outcome.summary,
        outcome.costs,
        concurrency,
        f"{request.repo}, branch yokeflow/integration",
        outcome.progress.tasks,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.lines():
            console.print(line, highlight=False)
    codes = {"succeeded": 0, "budget_exhausted": 3}
    raise typer.Exit(codes.get(report.outcome, 1))


def plan(
    repo: RepoOption = Path("."),
    spec: SpecOption = None,
    plan_file: PlanOption = None,
    name: NameOption = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="PostgreSQL URL (default: embedded).")
    ] = None,
    model_endpoint: Annotated[
        str | None, typer.Option("--model-endpoint", help="An Anthropic Messages API base URL.")
    ] = None,
) -> None:
    """Create the project from a spec (planning session) or a plan file, and show its graph.

    Nothing runs yet: start it with `yokeflow run --resume` in the same repository.
    """
    request = _request(repo, spec, plan_file, name, False, model_endpoint)
    overrides = {"database": {"url": database_url}} if database_url else None
    settings = load_settings(request.repo, overrides=overrides)
    console = Console()

    async def go() -> str:
        async with open_engine(settings, request.repo, model_endpoint=model_endpoint) as engine:
            project = await prepare_project(engine, request, console)
            tasks = await engine.store.get_tasks_with_dependencies(project.id)
            graph = graph_from_records(tasks, await engine.store.list_epics(project.id))
            return to_ascii(graph)

    console.print(asyncio.run(go()), highlight=False)


def cancel(project: ProjectOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Ask the running `yokeflow run` of this project to stop (agents stop, work is kept)."""

    async def go() -> str:
        target = await open_target(project, database_url)
        try:
            await target.store.update_project_metadata(target.project.id, {CANCEL_FLAG: True})
            return target.project.name
        finally:
            await target.store.close()

    typer.echo(f"cancel requested for {asyncio.run(go())}; the run stops within a second")
