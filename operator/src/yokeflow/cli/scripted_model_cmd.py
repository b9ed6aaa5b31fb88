"""``yokeflow scripted-model``: the offline stand-in for the Anthropic Messages API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yokeflow.adapters.scripted_model import load_scenario, serve

__all__ = ["app"]

app = typer.Typer(
    help="Answer the Claude Code CLI from a scenario file (no key, no network).",
    no_args_is_help=True,
)


@app.command("serve")
def serve_command(
    scenario: Annotated[
        Path, typer.Option("--scenario", "-s", help="The scenario file (YAML): default and rules.")
    ],
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: any).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    record: Annotated[
        Path | None, typer.Option("--record", help="Append every request as a JSON line here.")
    ] = None,
) -> None:
    """Serve POST /v1/messages (streaming and not) and /v1/messages/count_tokens until stopped.

    Point the CLI at it with ANTHROPIC_BASE_URL=http://HOST:PORT, any ANTHROPIC_API_KEY and
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (and IS_SANDBOX=1 when running as root).
    """
    serve(scenario, host=host, port=port, record=record)


@app.command("check")
def check_command(
    scenario: Annotated[Path, typer.Argument(help="The scenario file to validate.")],
) -> None:
    """Validate a scenario file and print its rules."""
    parsed = load_scenario(scenario)
    typer.echo(f"{scenario}: {len(parsed.rules)} rules, {len(parsed.default)} default turns")
    for index, rule in enumerate(parsed.rules):
        typer.echo(f"  {rule.label(index)}: {len(rule.turns)} turns")
