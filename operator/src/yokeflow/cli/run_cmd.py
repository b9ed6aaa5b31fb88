"""``yokeflow run``, ``plan`` and ``cancel``: a project's run on this machine."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from yokeflow.cli.api_cmd import HostOption, PortOption, TokenFileOption, read_token
from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.cli.planfile import read_plan
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, open_target
from yokeflow.cli.served_run import served_run
from yokeflow.core.graph import graph_from_records
from yokeflow.core.pictures import to_ascii
from yokeflow.errors import ConfigError
from yokeflow.local.engine import open_engine
from yokeflow.local.report import build_report
from yokeflow.local.run import RunRequest, prepare_project, run_local
from yokeflow.services.runs import CANCEL_FLAG
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


MAX_NAME_LENGTH = 200


def _check_name(name: str) -> None:
    if not name.strip():
        raise ConfigError("--name: a project name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"--name: at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    if any(not ch.isprintable() for ch in name):
        raise ConfigError(f"--name {name!r}: control characters are not allowed")


def _request(
    repo: Path,
    spec: Path | None,
    plan_file: Path | None,
    name: str | None,
    resume: bool,
    endpoint: str | None,
    retry_failed: bool = False,
) -> RunRequest:
    if sum(x is not None for x in (spec, plan_file)) + resume != 1:
        raise ConfigError("give exactly one of --spec FILE, --plan FILE or --resume")
    if retry_failed and not resume:
        raise ConfigError("--retry-failed continues a run: give it with --resume")
    if name is not None:
        _check_name(name)
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
        retry_failed=retry_failed,
    )


def run(
    repo: RepoOption = Path("."),
    spec: SpecOption = None,
    plan_file: PlanOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue this repository's last run.")
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="With --resume: give the failed tasks new attempts first."
        ),
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
    output: FormatOption = Format.text,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Serve the API and the dashboard beside the run (its URL is printed); it"
            " stays up after the run until Ctrl-C.",
        ),
    ] = False,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8787,
    token_file: TokenFileOption = None,
) -> None:
    """Plan (or load a plan), then run every task as its own agent in its own worktree.

    Finished tasks are merged into the branch yokeflow/integration; your checkout is never
    switched. Ctrl-C (or `yokeflow cancel`) stops the agents and keeps their work; continue with
    --resume. Exits 0 when every task merged, 1 otherwise, 3 when the budget ran out.
    """
    request = _request(repo, spec, plan_file, name, resume, model_endpoint, retry_failed)
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
    console = Console(stderr=output is Format.json)
    if serve:
        served = asyncio.run(
            served_run(
                settings, request, console, host=host, port=port, token=read_token(token_file)
            )
        )
        if served is None:
            raise typer.Exit(1)
        if output is Format.json:
            echo_json(served.to_dict())
        raise typer.Exit({"succeeded": 0, "budget_exhausted": 3}.get(served.outcome, 1))
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
    if output is Format.json:
        echo_json(report.to_dict())
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
        async with open_engine(
            settings,
            request.repo,
            model_endpoint=model_endpoint,
            notify=lambda text: console.print(text, markup=False, highlight=False),
        ) as engine:
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
