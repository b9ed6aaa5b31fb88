"""``yokeflow generate``: rewrite (or check) the repository's generated files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yokeflow.generated import render_all, stale_files

__all__ = ["generate"]


def generate(
    root: Annotated[
        Path, typer.Option("--root", help="The repository root holding the generated files.")
    ] = Path("."),
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 when a file is stale.")
    ] = False,
) -> None:
    """Regenerate the files that are produced from code (schemas, CRDs, the chart, reference pages)."""
    if check:
        stale = stale_files(root)
        for relative in stale:
            typer.echo(f"stale: {relative} (run `yokeflow generate`)", err=True)
        raise typer.Exit(1 if stale else 0)
    for path in render_all(root):
        typer.echo(f"wrote {path}")
