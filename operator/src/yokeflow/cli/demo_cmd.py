"""``yokeflow demo``: the whole pipeline, offline, on the embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.errors import ConfigError
from yokeflow.local.demo import run_demo
from yokeflow.settings import load_settings

__all__ = ["demo"]


def _make_workdir(workdir: Path) -> None:
    if workdir.exists() and not workdir.is_dir():
        raise ConfigError(f"--workdir {workdir}: is a file, expected a folder")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--workdir {workdir}: cannot create it: {exc.strerror}") from None


def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the sample repository is created.")
    ] = Path("yokeflow-demo"),
    max_concurrency: Annotated[
        int | None,
        typer.Option("--max-concurrency", min=1, max=16, help="Agents at once (default 3)."),
    ] = None,
    output: FormatOption = Format.text,
) -> None:
    """Plan a small app from its spec and build it with parallel agents — no key, no network.

    The real Claude Code CLI talks to a local scripted model server; state is kept in the
    embedded PostgreSQL. Ends with a summary and runs the resulting repository's own tests.
    """
    overrides = {"parallel": {"max_concurrency": max_concurrency}} if max_concurrency else None
    settings = load_settings(Path.cwd(), overrides=overrides)
    console = Console(stderr=output is Format.json)
    _make_workdir(workdir)
    result = run_demo(settings, workdir, console)
    if output is Format.json:
        echo_json({**result.report.to_dict(), "tests_passed": result.tests_passed})
    else:
        for line in result.report.lines():
            console.print(line, highlight=False)
        verdict = "pass" if result.tests_passed else "FAIL"
        console.print(f"The result's own tests ({result.repository}): {verdict}", highlight=False)
        if result.tests_output:
            console.print(result.tests_output.splitlines()[-1], highlight=False)
    raise typer.Exit(0 if result.tests_passed else 1)
