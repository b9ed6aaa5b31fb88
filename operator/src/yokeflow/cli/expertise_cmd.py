"""``yokeflow expertise``: what the agents of a project have learned, per domain."""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.cli.output import Format, FormatOption
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target, open_target
from yokeflow.errors import ConfigError
from yokeflow.services.learning import ExpertiseService, SaveOutcome

__all__ = ["app"]

app = typer.Typer(
    help="Lessons the agents learned, per domain (database, api, frontend, …).",
    no_args_is_help=True,
)

T = TypeVar("T")
DomainArgument = Annotated[
    str | None,
    typer.Argument(
        help="One domain (default: every domain that has expertise).", show_default=False
    ),
]


def _with_service(
    project: str | None,
    database_url: str | None,
    action: Callable[[Target, ExpertiseService], Awaitable[T]],
) -> T:
    async def run() -> T:
        target = await open_target(project, database_url)
        try:
            service = ExpertiseService(
                target.store,
                PostgresLearningStore.of(target.store),
                target.settings.learning,
                repo_dir=target.repo,
            )
            return await action(target, service)
        finally:
            await target.store.close()

    return asyncio.run(run())


@app.command("list")
def list_command(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Every domain with expertise: version, lines, lessons by kind, last validation."""

    async def action(target: Target, service: ExpertiseService) -> str:
        rows = await service.domains(target.project.id)
        if output is Format.json:
            return json.dumps(
                {
                    "project": target.project.name,
                    "domains": [
                        {
                            "domain": r.domain,
                            "version": r.version,
                            "lines": r.lines,
                            "lessons": r.lessons,
                            "validated_at": r.validated_at.isoformat() if r.validated_at else None,
                        }
                        for r in rows
                    ],
                },
                indent=2,
            )
        if not rows:
            return f"{target.project.name}: no expertise yet"
        lines = [f"{target.project.name}: expertise in {len(rows)} domains"]
        for r in rows:
            kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(r.lessons.items()))
            validated = r.validated_at.strftime("%Y-%m-%d %H:%M") if r.validated_at else "never"
            lines.append(
                f"  {r.domain:<11} v{r.version:<4} {r.lines:>5} lines  {kinds or 'no lessons'}"
                f"  (validated {validated})"
            )
        return "\n".join(lines)

    typer.echo(_with_service(project, database_url, action))


@app.command("show")
def show_command(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. database.")],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """A domain's expertise as its markdown file (what ``.yokeflow/expertise/DOMAIN.md`` holds)."""

    async def action(target: Target, service: ExpertiseService) -> str:
        _known_domain(target, domain)
        return await service.show(target.project.id, domain)

    typer.echo(_with_service(project, database_url, action), nl=False)


def _known_domain(target: Target, domain: str) -> None:
    """Refuse a domain the settings do not list (a typo would otherwise create an empty one)."""
    known = target.settings.learning.domains
    if domain not in known:
        near = difflib.get_close_matches(domain, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConfigError(f"unknown domain {domain!r} (known: {', '.join(sorted(known))}){hint}")


def _each_domain(
    project: str | None,
    database_url: str | None,
    domain: str | None,
    step: Callable[[ExpertiseService, int, str], Awaitable[SaveOutcome]],
    need_repo: bool,
) -> None:
    async def action(target: Target, service: ExpertiseService) -> list[str]:
        if need_repo and target.repo is None:
            raise ConfigError(
                "this needs the project's repository: run it inside the repository of the run"
            )
        if domain is not None:
            _known_domain(target, domain)
        domains = [domain] if domain else await service.domains(target.project.id)
        names = [d if isinstance(d, str) else d.domain for d in domains]
        out = []
        for name in names:
            result = await step(service, target.project.id, name)
            out.append(f"{name}: {result.summary} (version {result.version})")
        return out or [f"{target.project.name}: no expertise yet"]

    for line in _with_service(project, database_url, action):
        typer.echo(line)


@app.command("validate")
def validate_command(
    domain: DomainArgument = None,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Drop core files that no longer exist, prune stale failure lessons, record the time."""
    _each_domain(
        project,
        database_url,
        domain,
        lambda s, pid, d: s.validate_expertise(pid, d),
        need_repo=False,
    )


@app.command("improve")
def improve_command(
    domain: DomainArgument = None,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Scan the repository for each domain's files and list them as core files."""
    _each_domain(
        project,
        database_url,
        domain,
        lambda s, pid, d: s.self_improve(pid, d),
        need_repo=True,
    )


@app.command("edit")
def edit_command(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. database.")],
    file: Annotated[
        Path, typer.Option("--file", help="The edited markdown (as `show` prints it).")
    ],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Replace a domain's lessons with an edited markdown file (a new version, kept in history)."""
    try:
        markdown = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it: {exc.strerror}") from None

    async def action(target: Target, service: ExpertiseService) -> str:
        if domain not in target.settings.learning.domains:
            raise ConfigError(f"unknown domain {domain!r}")
        saved = await service.edit(target.project.id, domain, markdown)
        return f"{domain}: {saved.summary} (version {saved.version})"

    typer.echo(_with_service(project, database_url, action))


@app.command("history")
def history_command(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. database.")],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Every saved change of a domain: version, kind, summary, time."""

    async def action(target: Target, service: ExpertiseService) -> list[str]:
        updates = await service.history(target.project.id, domain)
        return [
            f"v{u.version or '?':<4} {u.change_type:<9} {u.summary}"
            f"  ({u.created_at:%Y-%m-%d %H:%M})"
            if u.created_at
            else f"v{u.version} {u.summary}"
            for u in updates
        ] or [f"{domain}: no history"]

    for line in _with_service(project, database_url, action):
        typer.echo(line)
