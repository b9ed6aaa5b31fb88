"""``yokeflow simulate``: a what-if run of the scheduler on a plan's estimates."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.cli.planfile import read_plan_graph
from yokeflow.core.simulation import simulate as run_simulation
from yokeflow.errors import PlanError

__all__ = ["simulate"]


class Policy(StrEnum):
    eager = "eager"
    batches = "batches"


def simulate(
    plan: Annotated[
        Path, typer.Argument(help="A plan file (YAML, or JSON when it ends in .json).")
    ],
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, max=1024, help="Agents at once.")
    ] = 3,
    schedule: Annotated[
        Policy, typer.Option("--schedule", help="Scheduling policy.")
    ] = Policy.eager,
    output: FormatOption = Format.text,
) -> None:
    """Simulate running PLAN with its estimates: makespan, lower bound, sequential time, schedule.

    The lower bound is max(critical path, total work / concurrency); all times are minutes.
    """
    graph = read_plan_graph(plan)
    if not graph.tasks:
        raise PlanError(str(plan), "", "has no tasks, nothing to simulate")
    if not graph.is_valid:
        for problem in graph.problems():
            typer.echo(problem, err=True)
        raise typer.Exit(2)
    result = run_simulation(graph, concurrency, schedule.value)
    if output is Format.json:
        echo_json(result.to_dict())
        return
    typer.echo(
        f"{schedule.value} with {concurrency} agents: makespan {result.makespan:g} min, "
        f"lower bound {result.lower_bound:g} min ({result.ratio:.3f}x), "
        f"sequential {result.sequential:g} min ({result.sequential / result.makespan:.2f}x speedup)"
    )
    for item in result.schedule:
        typer.echo(f"  {item.start:>8g} - {item.end:<8g} {item.task}")
