"""The task runner's composition root: settings, the Claude adapter, the git checkout, the
prompts and the store, wired into the task use case (:mod:`yokeflow.services.task_run`).

This is what a task Job runs (through ``yokeflow runner task``); it is also the place to look for
how the real pieces fit together. The task comes from one of three places:

- the database (no ``--plan``): a local worker; the session row and cost go to the store;
- a plan file and an MCP configuration naming the task manager over HTTP with a bearer token —
  a task Job's pod (**cluster mode**): no database; the session row and cost are reported to the
  task manager (:mod:`yokeflow.adapters.session_reports`) under the token's project and task,
  and what a failed attempt left is committed too, so that the pod's script pushes it;
- a plan file alone: nothing is recorded, the cost is only reported.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import platformdirs

from yokeflow.adapters.claude import ClaudeAgentRunner
from yokeflow.adapters.git.remote_merge import MergeOutcome, RemoteMerge
from yokeflow.adapters.prompt_files import load_prompts
from yokeflow.adapters.session_reports import HttpSessionReports, reporting_server
from yokeflow.adapters.task_checkout import GitTaskCheckout
from yokeflow.core.merging import MergeMode
from yokeflow.core.naming import sanitize_path_component
from yokeflow.core.plan import parse_plan
from yokeflow.core.prompts import PromptTemplates
from yokeflow.errors import ConfigError, PlanError
from yokeflow.ports.agent import McpServer
from yokeflow.ports.session_reports import ReportingScope
from yokeflow.services.planning import RemotePlanning, plan_remotely
from yokeflow.services.task_run import TaskReport, TaskRunConfig, TaskSpec, run_task
from yokeflow.services.task_sources import spec_from_plan, spec_from_store
from yokeflow.settings import Settings

__all__ = [
    "load_mcp_config",
    "run_merge_command",
    "run_plan_command",
    "run_task_command",
    "task_from_scope",
]


def load_mcp_config(path: Path) -> tuple[McpServer, ...]:
    """MCP servers from a JSON file in Claude's format: ``{"mcpServers": {name: {...}}}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the MCP configuration: {exc}") from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError(f"{path}: expected an object with 'mcpServers'")
    out: list[McpServer] = []
    for name, entry in servers.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: mcpServers.{name} must be an object")
        try:
            out.append(
                McpServer(
                    name=name,
                    command=entry.get("command"),
                    args=tuple(entry.get("args", ())),
                    env=dict(entry.get("env", {})),
                    url=entry.get("url"),
                    headers=dict(entry.get("headers", {})),
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return tuple(out)


def _transcript_path(project: str, task: str) -> Path:
    folder = Path(platformdirs.user_state_dir("yokeflow")) / "transcripts"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    name = f"{sanitize_path_component(task)}-{stamp}.jsonl"
    return folder / sanitize_path_component(project) / name


async def _cancel_on_signal(cancel: anyio.Event) -> None:
    # SIGTERM (a Job being deleted) and SIGINT end the session cleanly: it is recorded as
    # cancelled, with its cost, and its processes are reaped.
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            cancel.set()
            return


@dataclass(frozen=True)
class _Prepared:
    config: TaskRunConfig
    spec: TaskSpec | None
    """From the plan file; None: read it from the database."""
    prompts: PromptTemplates


def _prepare(
    settings: Settings,
    *,
    project: str,
    task: str,
    worktree: Path,
    plan: Path | None,
    model: str | None,
    verify: tuple[str, ...],
    branch: str | None,
    base_branch: str,
    transcript: Path | None,
    mcp_config: Path | None,
    max_retries: int | None,
    expertise: Path | None = None,
) -> _Prepared:
    worktree = worktree.resolve()
    if not worktree.is_dir():
        raise ConfigError(f"the worktree {worktree} does not exist")
    spec = None
    if plan is not None:
        try:
            text = plan.read_text(encoding="utf-8")
        except OSError as exc:
            raise PlanError(str(plan), "", f"cannot read: {exc.strerror}") from None
        spec = spec_from_plan(parse_plan(text, str(plan)), task, str(plan))
    servers = load_mcp_config(mcp_config) if mcp_config else ()
    cluster = spec is not None and reporting_server(servers) is not None
    config = TaskRunConfig(
        worktree=worktree,
        model=model or settings.cost.default_model,
        branch=branch,
        base_branch=base_branch,
        verify_commands=verify
        or ((settings.agent.verify_command,) if settings.agent.verify_command else ()),
        max_turns=settings.agent.max_turns,
        timeout_seconds=settings.agent.timeout_seconds,
        transcript_path=transcript or _transcript_path(project, task),
        mcp_servers=servers,
        max_retries=max_retries,
        expertise=_read_expertise(expertise),
        keep_failed_work=cluster,
    )
    return _Prepared(config, spec, load_prompts())


def _read_expertise(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the expertise file: {exc.strerror}") from None


async def _run(
    settings: Settings,
    prepared: _Prepared,
    *,
    project: str,
    task: str,
    environ: Mapping[str, str] | None,
) -> TaskReport:
    agent = ClaudeAgentRunner(
        endpoint=settings.agent.model_endpoint,
        environ=environ,
        pass_environment=settings.agent.pass_environment,
    )
    checkout = GitTaskCheckout(prepared.config.worktree)
    cancel = anyio.Event()
    report: TaskReport | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_signal, cancel)
        try:
            reporter = reporting_server(prepared.config.mcp_servers)
            if prepared.spec is not None and reporter is not None:
                report = await _run_reported(prepared, prepared.spec, reporter, agent, cancel)
            elif prepared.spec is not None:
                report = await run_task(
                    prepared.spec,
                    prepared.config,
                    agent=agent,
                    checkout=checkout,
                    prompts=prepared.prompts,
                    cancel=cancel,
                )
            else:
                from yokeflow.adapters.postgres import open_store  # starts PostgreSQL if needed

                store = await open_store(settings.database)
                try:
                    spec = await spec_from_store(store, project, task)
                    report = await run_task(
                        spec,
                        prepared.config,
                        agent=agent,
                        checkout=checkout,
                        prompts=prepared.prompts,
                        costs=store,
                        sessions=store,
                        cancel=cancel,
                    )
                finally:
                    await store.close()
        finally:
            group.cancel_scope.cancel()
    assert report is not None  # run_task returns a report or raises
    return report


def task_from_scope(spec: TaskSpec, scope: ReportingScope) -> TaskSpec:
    """``spec`` (from a plan file) bound to the project and task a token is for; a token of
    another task is refused."""
    if scope.task is not None and scope.task != spec.key:
        raise ConfigError(
            f"the MCP token is for task {scope.task!r}, but the runner was asked to run {spec.key!r}"
        )
    return dataclasses.replace(spec, project_id=scope.project_id, task_id=scope.task_id)


async def _run_reported(
    prepared: _Prepared,
    spec: TaskSpec,
    server: McpServer,
    agent: ClaudeAgentRunner,
    cancel: anyio.Event,
) -> TaskReport:
    assert server.url is not None
    reports = HttpSessionReports(server.url, server.headers)
    try:
        bound = task_from_scope(spec, await reports.scope())
        return await run_task(
            bound,
            prepared.config,
            agent=agent,
            checkout=GitTaskCheckout(prepared.config.worktree),
            prompts=prepared.prompts,
            costs=reports,
            sessions=reports,
            cancel=cancel,
        )
    finally:
        await reports.aclose()


def run_task_command(
    settings: Settings,
    *,
    project: str,
    task: str,
    worktree: Path,
    plan: Path | None = None,
    model: str | None = None,
    verify: tuple[str, ...] = (),
    branch: str | None = None,
    base_branch: str = "main",
    transcript: Path | None = None,
    mcp_config: Path | None = None,
    max_retries: int | None = None,
    expertise: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> TaskReport:
    """Run one task as ``yokeflow runner task`` does and return its report (blocking)."""
    prepared = _prepare(
        settings,
        project=project,
        task=task,
        worktree=worktree,
        plan=plan,
        model=model,
        verify=verify,
        branch=branch,
        base_branch=base_branch,
        transcript=transcript,
        mcp_config=mcp_config,
        max_retries=max_retries,
        expertise=expertise,
    )
    return anyio.run(lambda: _run(settings, prepared, project=project, task=task, environ=environ))


def run_merge_command(
    repository: Path,
    *,
    integration_branch: str,
    mode: MergeMode,
    tasks: list[tuple[str, str]],
    remote: str = "origin",
) -> MergeOutcome:
    """Merge task branches of ``remote`` as ``yokeflow runner merge`` does (blocking)."""
    merge = RemoteMerge(repository, integration_branch=integration_branch, mode=mode, remote=remote)
    return anyio.run(merge.run, tasks)


def run_plan_command(
    settings: Settings,
    *,
    spec: Path,
    worktree: Path,
    mcp_config: Path,
    model: str | None = None,
    max_rounds: int = 3,
    environ: Mapping[str, str] | None = None,
) -> RemotePlanning:
    """Plan the project of the MCP configuration's token from ``spec``, as ``yokeflow runner
    plan`` does in a planning Job (blocking): no database, the task manager over HTTP."""
    try:
        text = spec.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{spec}: cannot read the specification: {exc.strerror}") from None
    if not worktree.is_dir():
        raise ConfigError(f"the worktree {worktree} does not exist")
    cwd = worktree.resolve()
    server = reporting_server(load_mcp_config(mcp_config))
    if server is None or server.url is None:
        raise ConfigError(
            f"{mcp_config}: planning in a Job needs the task manager over HTTP with a bearer token"
        )
    agent = ClaudeAgentRunner(
        endpoint=settings.agent.model_endpoint,
        environ=environ,
        pass_environment=settings.agent.pass_environment,
    )

    async def plan() -> RemotePlanning:
        assert server.url is not None
        books = HttpSessionReports(server.url, server.headers)
        try:
            scope = await books.scope()
            if scope.task is not None:
                raise ConfigError(
                    f"the MCP token is for task {scope.task!r}: planning needs a run-wide token"
                )
            return await plan_remotely(
                books=books,
                agent=agent,
                prompts=load_prompts(),
                project_id=scope.project_id,
                project_name=scope.project,
                spec=text,
                cwd=cwd,
                mcp=server,
                model=model or settings.cost.default_model,
                max_rounds=max_rounds,
                transcripts=_transcript_path(scope.project, "planning").parent,
                max_turns=settings.agent.max_turns,
                timeout_seconds=settings.agent.timeout_seconds,
            )
        finally:
            await books.aclose()

    return anyio.run(plan)
