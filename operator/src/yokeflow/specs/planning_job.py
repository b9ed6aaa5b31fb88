"""The planning Job: turns a ProjectRun's specification into a plan, through the MCP task manager.

Its pod clones the run's repository at the head of the base branch (so the planning session sees
the code it plans for), mounts the specification — from the run's ConfigMap, or from the planning
Secret when the spec is inline — and the MCP configuration (a run-scoped token, from the planning
Secret), and runs ``yokeflow runner plan``, which creates the epics and tasks through the MCP
tools. Agents never get database credentials. The JSON report is the termination message.
"""

from __future__ import annotations

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.jobs import JobShape, job
from yokeflow.specs.names import (
    COMPONENT_PLANNER,
    Owner,
    common_labels,
    owner_reference,
    planning_job_name,
    task_secret_name,
)
from yokeflow.specs.objects import Container, Job, Secret, Volume, VolumeMount
from yokeflow.specs.pods import (
    REPO_DIR,
    PodSettings,
    api_key_env,
    clone_container,
    container_security_context,
    git_env,
    git_volumes,
    scratch_mounts,
    scratch_volumes,
)
from yokeflow.specs.task_job import MCP_CONFIG_KEY, mcp_config

__all__ = [
    "PLANNING_DEADLINE_SECONDS",
    "PLANNING_DIR",
    "SPEC_DIR",
    "SPEC_KEY",
    "build_planning_job",
    "build_planning_secret",
]

PLANNING_DIR = "/var/run/yokeflow/planning"
"""Where the planning Secret (MCP configuration, an inline spec) is mounted."""
SPEC_DIR = "/var/run/yokeflow/spec"
"""Where a ConfigMap-held specification is mounted."""
SPEC_KEY = "spec.md"
PLANNING_DEADLINE_SECONDS = 3600
_PLANNING_VOLUME = "planning"
_SPEC_VOLUME = "spec"

PLAN_SCRIPT = """set -u
yokeflow runner plan "$@" > /tmp/report.json
status=$?
cat /tmp/report.json
head -c 4096 /tmp/report.json > /dev/termination-log 2>/dev/null || true
exit $status
"""


def build_planning_secret(
    *,
    run: str,
    namespace: str,
    owner: Owner,
    attempt: int,
    spec: ProjectRunSpec,
    mcp_url: str,
    token: str,
) -> Secret:
    """The planning Secret: the MCP configuration with a run-scoped token, and the inline spec
    text when the run has one. Owned by the ProjectRun ``owner``."""
    data = {MCP_CONFIG_KEY: mcp_config(mcp_url, token)}
    if spec.spec is not None and spec.spec.text is not None:
        data[SPEC_KEY] = spec.spec.text
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": task_secret_name(planning_job_name(run, attempt)),
            "namespace": namespace,
            "labels": common_labels(run, COMPONENT_PLANNER),
            "ownerReferences": [owner_reference(owner)],
        },
        "type": "Opaque",
        "stringData": data,
    }


def build_planning_job(
    *,
    run: str,
    namespace: str,
    spec: ProjectRunSpec,
    owner: Owner,
    attempt: int,
    model: str,
    settings: PodSettings,
) -> Job:
    """The planning Job of attempt ``attempt`` (from 1) to plan ProjectRun ``owner``'s spec.

    The runner is called as ``yokeflow runner plan --project RUN --spec FILE --worktree
    /workspace/repo --model MODEL --mcp-config FILE``. Raises ``ValueError`` for a run with an
    inline plan (it needs no planning).
    """
    if spec.spec is None:
        raise ValueError(f"ProjectRun {run} has an inline plan: there is nothing to plan")
    name = planning_job_name(run, attempt)
    image = spec.agent.image or settings.image
    git_vols, git_mounts = git_volumes(spec)
    secret_volume: Volume = {
        "name": _PLANNING_VOLUME,
        "secret": {"secretName": task_secret_name(name), "defaultMode": 0o400},
    }
    volumes = [*scratch_volumes(settings), *git_vols, secret_volume]
    mounts: list[VolumeMount] = [
        *scratch_mounts(settings),
        *git_mounts,
        {"name": _PLANNING_VOLUME, "mountPath": PLANNING_DIR, "readOnly": True},
    ]
    ref = spec.spec.config_map_ref
    if ref is not None:
        volumes.append(
            {
                "name": _SPEC_VOLUME,
                "configMap": {
                    "name": ref.name,
                    "defaultMode": 0o444,
                    "items": [{"key": ref.key, "path": SPEC_KEY}],
                },
            }
        )
        mounts.append({"name": _SPEC_VOLUME, "mountPath": SPEC_DIR, "readOnly": True})
        spec_file = f"{SPEC_DIR}/{SPEC_KEY}"
    else:
        spec_file = f"{PLANNING_DIR}/{SPEC_KEY}"
    args = [
        "--project",
        run,
        "--spec",
        spec_file,
        "--worktree",
        REPO_DIR,
        "--model",
        model,
        "--mcp-config",
        f"{PLANNING_DIR}/{MCP_CONFIG_KEY}",
    ]
    if settings.model_endpoint is not None:
        args += ["--endpoint", settings.model_endpoint]
    planner: Container = {
        "name": "planner",
        "image": image,
        "command": ["sh", "-c", PLAN_SCRIPT, "plan"],
        "args": args,
        "workingDir": REPO_DIR,
        "env": [*git_env(spec), *api_key_env(spec, settings)],
        "volumeMounts": mounts,
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    shape = JobShape(
        name=name,
        namespace=namespace,
        owner=owner,
        labels=common_labels(run, COMPONENT_PLANNER),
        annotations={},
        deadline_seconds=PLANNING_DEADLINE_SECONDS,
        ttl_seconds=spec.agent.timeouts.finished_ttl_seconds,
    )
    base = spec.repository.base_branch
    return job(
        shape,
        settings,
        [clone_container(spec, settings, image, f"origin/{base}", f"yokeflow/plan-{attempt}")],
        [planner],
        volumes,
    )
