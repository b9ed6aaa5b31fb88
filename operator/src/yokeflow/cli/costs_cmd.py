"""``yokeflow costs``: what a project spent, by model and by task type, and what is left."""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal

import typer

from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, open_target
from yokeflow.services.costs import CostReport, cost_report

__all__ = ["costs", "render_text"]


def _usd(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP)}"


def render_text(name: str, report: CostReport) -> str:
    """The report as aligned plain text."""
    lines = [f"{name} (project {report.project_id}): {_usd(report.total_usd)} spent", ""]
    lines.append("By model")
    if not report.by_model:
        lines.append("  (no sessions yet)")
    for s in report.by_model:
        lines.append(
            f"  {s.model or '?':<28} {s.calls:>5} sessions  {s.input_tokens:>10} in"
            f"  {s.output_tokens:>9} out  {_usd(s.cost_usd):>11}"
        )
    lines += ["", "By task type"]
    if not report.by_task_type:
        lines.append("  (no sessions yet)")
    for t in report.by_task_type:
        lines.append(
            f"  {t.task_type or '(none)':<28} {t.sessions:>5} sessions  {_usd(t.cost_usd):>11}"
        )
    if report.outcomes:
        lines += ["", "Success rates (all projects)"]
        for o in report.outcomes:
            lines.append(
                f"  {o.model:<28} {o.task_type or '(none)':<14} {o.successes}/{o.attempts}"
                f"  {o.success_rate:.0%}"
            )
    f = report.forecast
    lines += ["", f"Forecast: {f.tasks} tasks left ≈ {_usd(f.total)}"]
    for tier in f.tiers:
        basis = "measured" if tier.measured else "typical session"
        lines.append(
            f"  {tier.tier.value:<8} {tier.tasks:>4} × {_usd(tier.cost_per_task)} ({basis})"
            f" = {_usd(tier.total)}"
        )
    return "\n".join(lines)


def costs(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Spend by model and by task type, success rates, and the forecast of the remaining tasks."""

    async def run() -> tuple[str, CostReport]:
        target = await open_target(project, database_url)
        try:
            report = await cost_report(
                target.store,
                PostgresLearningStore.of(target.store),
                target.project.id,
                target.settings.cost,
            )
        finally:
            await target.store.close()
        return target.project.name, report

    name, report = asyncio.run(run())
    if output is Format.json:
        echo_json({"project": name, **report.to_dict()})
    else:
        typer.echo(render_text(name, report))
