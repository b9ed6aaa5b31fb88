"""``yokeflow runner``: what runs inside a task Job (or a local worker) for one task.

The wiring is in :mod:`yokeflow.runner.main`; this module only parses the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from yokeflow.adapters import git_hygiene
from yokeflow.core.merging import MergeMode
from yokeflow.core.termination import fit_report
from yokeflow.errors import ConfigError, YokeflowError
from yokeflow.runner.main import run_merge_command, run_plan_command, run_task_command
from yokeflow.settings import load_settings

__all__ = ["FAILED_MERGE_EXIT", "FAILED_PLAN_EXIT", "FAILED_TASK_EXIT", "NOT_PUSHED_EXIT", "app"]

app = typer.Typer(
    help="What runs inside a task, merge or planning Job.",
    no_args_is_help=True,
)

FAILED_TASK_EXIT = 3
"""The exit code of a task that ran but failed (errors before that exit 1 or 2)."""
FAILED_MERGE_EXIT = 3
"""``runner merge``: a named task branch is missing on the remote or could not be merged."""
FAILED_PLAN_EXIT = 3
"""``runner plan``: no valid plan came out of the planning rounds."""
NOT_PUSHED_EXIT = 4
"""``runner merge``: the integration branch could not be pushed."""


@app.command("task")
def task_command(
    project: Annotated[str, typer.Option("--project", help="The project's name or id.")],
    task: Annotated[str, typer.Option("--task", help="The task's key.")],
    worktree: Annotated[Path, typer.Option("--worktree", help="The task's git worktree.")],
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Read the task from this plan file instead of the database."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="The model (default: cost.default_model).")
    ] = None,
    verify: Annotated[
        list[str] | None,
        typer.Option(
            "--verify", help="A command that must pass (repeatable; default: agent.verify_command)."
        ),
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="The task branch (default: the worktree's).")
    ] = None,
    base_branch: Annotated[
        str, typer.Option("--base-branch", help="The branch the worktree was made from.")
    ] = "main",
    transcript: Annotated[
        Path | None,
        typer.Option("--transcript", help="Write the session transcript here (JSON lines)."),
    ] = None,
    mcp_config: Annotated[
        Path | None,
        typer.Option("--mcp-config", help='MCP servers as JSON: {"mcpServers": {name: {...}}}.'),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="A Messages API base URL (agent.model_endpoint)."),
    ] = None,
    max_turns: Annotated[int | None, typer.Option("--max-turns", help="agent.max_turns")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="agent.timeout_seconds")
    ] = None,
    max_retries: Annotated[
        int | None, typer.Option("--max-retries", help="How often the CLI retries a model call.")
    ] = None,
    expertise: Annotated[
        Path | None,
        typer.Option("--expertise", help="Lessons (Markdown) to give the agent for this task."),
    ] = None,
) -> None:
    """Build the prompt, run the session, verify, commit in the worktree, record the cost, and
    print a JSON report (at most 4096 bytes: a pod's termination message). Exits 0 when the
    task is done, 3 when it failed.

    Given --plan and an --mcp-config naming the task manager over HTTP with a bearer token (a
    task Job), no database is used: the session and its cost are reported to the task manager
    under the token's task, and a failed attempt's work is committed too."""
    agent_overrides: dict[str, Any] = {}
    if endpoint is not None:
        agent_overrides["model_endpoint"] = endpoint
    if max_turns is not None:
        agent_overrides["max_turns"] = max_turns
    if timeout is not None:
        agent_overrides["timeout_seconds"] = timeout
    settings = load_settings(overrides={"agent": agent_overrides} if agent_overrides else None)

    try:
        report = run_task_command(
            settings,
            project=project,
            task=task,
            worktree=worktree,
            plan=plan,
            model=model,
            verify=tuple(verify or ()),
            branch=branch,
            base_branch=base_branch,
            transcript=transcript,
            mcp_config=mcp_config,
            max_retries=max_retries,
            expertise=expertise,
        )
    except YokeflowError as exc:
        # The report is the pod's termination message: even a runner that could not start
        # leaves one, saying why.
        typer.echo(
            fit_report({"task": task, "success": False, "stage": "setup", "error": str(exc)})
        )
        raise
    typer.echo(fit_report(report.to_dict()))
    if not report.success:
        raise typer.Exit(FAILED_TASK_EXIT)


@app.command("merge")
def merge_command(
    repository: Annotated[
        Path, typer.Option("--repository", help="The clone to merge in (its remote is --remote).")
    ],
    integration_branch: Annotated[
        str, typer.Option("--integration-branch", help="The branch the tasks are merged into.")
    ],
    tasks: Annotated[
        list[str],
        typer.Option(
            "--task", help="KEY=BRANCH of a task to merge (repeatable; merged in this order)."
        ),
    ],
    strategy: Annotated[
        MergeMode, typer.Option("--strategy", help="A merge commit, or one squashed commit.")
    ] = MergeMode.MERGE,
    remote: Annotated[
        str, typer.Option("--remote", help="Where the branches are fetched from and pushed to.")
    ] = "origin",
) -> None:
    """Fetch the task branches, merge them one after another onto the integration branch with
    the merge queue (a conflict leaves it untouched), and push it — never forced: when the
    remote moved meanwhile, fetch and merge again. Prints a JSON report (at most 4096 bytes).
    Branches already merged are not merged again. Exits 0 when pushed (conflicts are listed,
    not failures), 3 when a branch is missing or could not be merged, 4 when not pushed."""
    try:
        pairs = [_task_branch(raw) for raw in tasks]
        outcome = run_merge_command(
            repository,
            integration_branch=integration_branch,
            mode=strategy,
            remote=remote,
            tasks=pairs,
        )
    except YokeflowError as exc:
        # Nothing was pushed: the report (the termination message) says why.
        failed = {"success": False, "pushed": False, "merged": [], "error": str(exc)}
        typer.echo(fit_report(failed))
        raise
    typer.echo(fit_report(outcome.to_dict()))
    if not outcome.pushed:
        raise typer.Exit(NOT_PUSHED_EXIT)
    if not outcome.success:
        raise typer.Exit(FAILED_MERGE_EXIT)


@app.command("plan")
def plan_command(
    project: Annotated[
        str, typer.Option("--project", help="The run being planned (the token names the project).")
    ],
    spec: Annotated[Path, typer.Option("--spec", help="The specification to plan (Markdown).")],
    worktree: Annotated[
        Path, typer.Option("--worktree", help="The repository the planning agent looks at.")
    ],
    mcp_config: Annotated[
        Path,
        typer.Option(
            "--mcp-config", help="The task manager over HTTP with a run-wide bearer token (JSON)."
        ),
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="The model (default: cost.default_model).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="A Messages API base URL (agent.model_endpoint)."),
    ] = None,
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", min=1, help="Sessions to get a valid plan.")
    ] = 3,
) -> None:
    """Run the planning session: the agent writes epics and tasks with dependencies through the
    task manager's tools over HTTP (no database here); the plan is read back and sent back for
    correction while it has problems. Reports each session and its cost to the task manager,
    prints a JSON report with the counts (at most 4096 bytes). Exits 0 with a valid plan, 3
    without one."""
    overrides = {"agent": {"model_endpoint": endpoint}} if endpoint is not None else None
    settings = load_settings(overrides=overrides)
    try:
        outcome = run_plan_command(
            settings,
            spec=spec,
            worktree=worktree,
            mcp_config=mcp_config,
            model=model,
            max_rounds=max_rounds,
        )
    except YokeflowError as exc:
        typer.echo(fit_report({"project": project, "success": False, "error": str(exc)}))
        raise
    typer.echo(fit_report(outcome.to_dict()))
    if not outcome.success:
        raise typer.Exit(FAILED_PLAN_EXIT)


def _task_branch(raw: str) -> tuple[str, str]:
    key, sep, branch = raw.partition("=")
    if not sep or not key.strip() or not branch.strip():
        raise ConfigError(f"--task {raw!r}: expected KEY=BRANCH")
    return key.strip(), branch.strip()


@app.command("hygiene")
def hygiene_command(
    repository: Annotated[
        Path, typer.Argument(help="The repository (or worktree) to check.")
    ] = Path("."),
    fix: Annotated[
        bool, typer.Option("--fix", help="Add the missing standard entries to .gitignore.")
    ] = False,
) -> None:
    """List committed dependency folders and secrets-like files (exit 1 if any); with --fix,
    complete .gitignore (the same check every agent session gets when it ends)."""
    if not git_hygiene.is_git_repository(repository):
        raise ConfigError(f"{repository} is not a git repository")
    findings = git_hygiene.validate_repository(repository)
    for finding in findings:
        typer.echo(finding.message)
    if fix:
        added = git_hygiene.fix_gitignore(repository)
        typer.echo(f".gitignore: added {', '.join(added)}" if added else ".gitignore: complete")
    if not findings:
        typer.echo("clean: no dependency folders or secrets-like files are committed")
    else:
        raise typer.Exit(1)
