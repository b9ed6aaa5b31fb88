"""The task Job calls `yokeflow runner task` with options the runner has, and agrees on exit codes."""

from __future__ import annotations

import typer

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.cli.runner_cmd import FAILED_TASK_EXIT, app
from yokeflow.specs.names import Owner
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import EXIT_TASK_FAILED, build_task_job


def _runner_options(name: str) -> set[str]:
    group = typer.main.get_command(app)
    command = group.commands[name]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_every_option_the_task_job_passes_is_one_the_runner_knows() -> None:
    spec = ProjectRunSpec.model_validate(
        {"repository": {"url": "https://h/r.git"}, "spec": {"text": "x"}}
    )
    job = build_task_job(
        run="r",
        namespace="n",
        spec=spec,
        batch=Owner("yokeflow.io/v1alpha1", "TaskBatch", "b", "u"),
        batch_number=1,
        task=BatchTask(key="t", title="T", epic="e", model="m", branch="b/t"),
        attempt=1,
        base_commit="a" * 40,
        integration_branch="main",
        settings=PodSettings(image="i", mcp_url="http://mcp", model_endpoint="http://model"),
    )
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    passed = {a for a in args if a.startswith("--")}

    assert passed
    assert passed <= _runner_options("task"), passed - _runner_options("task")


def test_the_task_jobs_failed_exit_code_is_the_runners() -> None:
    assert EXIT_TASK_FAILED == FAILED_TASK_EXIT
