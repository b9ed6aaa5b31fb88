"""yokeflow.specs.planning_job: the Job that plans a ProjectRun's specification."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.names import Owner, planning_job_name, task_secret_name
from yokeflow.specs.planning_job import build_planning_job, build_planning_secret
from yokeflow.specs.pods import PodSettings


def test_an_inline_spec_is_read_from_the_planning_secret(
    spec: ProjectRunSpec, run_owner: Owner, settings: PodSettings
) -> None:
    job = build_planning_job(
        run="todo",
        namespace="team-a",
        spec=spec,
        owner=run_owner,
        attempt=1,
        model="claude-opus-4-5",
        settings=settings,
    )
    secret = build_planning_secret(
        run="todo",
        namespace="team-a",
        owner=run_owner,
        attempt=1,
        spec=spec,
        mcp_url="http://mcp/mcp",
        token="t",
    )

    assert job["metadata"]["name"] == planning_job_name("todo", 1)
    assert job["metadata"]["ownerReferences"][0]["kind"] == "ProjectRun"
    pod = job["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[args.index("--spec") + 1] == "/var/run/yokeflow/planning/spec.md"
    assert secret["metadata"]["name"] == task_secret_name(job["metadata"]["name"])
    assert secret["stringData"]["spec.md"] == "Build a to-do API."
    assert json.loads(secret["stringData"]["mcp.json"])["mcpServers"]["task-manager"]["headers"]
    assert pod["initContainers"][0]["args"][1] == "origin/main"


def test_a_config_map_spec_is_mounted_from_it(
    make_spec: Callable[..., ProjectRunSpec], run_owner: Owner, settings: PodSettings
) -> None:
    spec = make_spec(spec={"configMapRef": {"name": "todo-spec", "key": "README.md"}})
    job = build_planning_job(
        run="todo",
        namespace="team-a",
        spec=spec,
        owner=run_owner,
        attempt=4,
        model="m",
        settings=settings,
    )

    pod = job["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "spec")
    assert volume["configMap"]["name"] == "todo-spec"
    assert volume["configMap"]["items"] == [{"key": "README.md", "path": "spec.md"}]
    args = pod["containers"][0]["args"]
    assert args[args.index("--spec") + 1] == "/var/run/yokeflow/spec/spec.md"


def test_a_run_with_an_inline_plan_has_nothing_to_plan(
    make_spec: Callable[..., ProjectRunSpec], run_owner: Owner, settings: PodSettings
) -> None:
    spec = make_spec(
        spec=None,
        plan={
            "name": "p",
            "epics": [{"key": "e", "name": "E", "tasks": [{"key": "t", "title": "T"}]}],
        },
    )
    with pytest.raises(ValueError, match="inline plan"):
        build_planning_job(
            run="todo",
            namespace="team-a",
            spec=spec,
            owner=run_owner,
            attempt=1,
            model="m",
            settings=settings,
        )
