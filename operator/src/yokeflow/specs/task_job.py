"""The task Job: one attempt of one task, run by one agent in the pod's own worktree.

``build_task_job`` returns a ``batch/v1`` Job whose pod

1. clones the run's repository into its own worktree volume at ``base_commit`` (the integration
   commit, which already holds the task's merged dependencies), on the task's branch — through
   the reference cache when the operator mounts one;
2. runs ``yokeflow runner task`` with the model's API key from a Secret (env ``valueFrom``) and
   the MCP configuration — the task-scoped token inside — as a file mounted from the Secret that
   ``build_task_secret`` makes (never an env var or an argument);
3. pushes the task branch whenever the agent committed anything, success or not, and writes the
   runner's JSON report as the container's termination message.

The agent container exits 0 when the task is done, 3 when it failed, 4 when its work could not
be pushed; anything else is an error of the runner itself. ``backoffLimit: 0``: the operator's
retry policy decides about a new attempt (a new Job, named for that attempt), never the Job
controller.
"""

from __future__ import annotations

import json

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.jobs import JobShape, job
from yokeflow.specs.names import (
    ANNOTATION_TASK_KEY,
    COMPONENT_AGENT,
    LABEL_ATTEMPT,
    LABEL_BATCH,
    LABEL_TASK,
    QUEUE_NAME_LABEL,
    Owner,
    common_labels,
    label_value,
    owner_reference,
    task_job_name,
    task_secret_name,
)
from yokeflow.specs.objects import Container, EnvVar, Job, ResourceRequirements, Secret, Volume
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

__all__ = [
    "EXIT_PUSH_FAILED",
    "EXIT_TASK_FAILED",
    "MCP_CONFIG_KEY",
    "TASK_DIR",
    "TASK_PLAN_KEY",
    "build_task_job",
    "build_task_secret",
    "mcp_config",
    "task_labels",
]

TASK_DIR = "/var/run/yokeflow/task"
"""Where the task Secret (MCP configuration, the task's plan) is mounted, read-only."""
MCP_CONFIG_KEY = "mcp.json"
TASK_PLAN_KEY = "plan.yaml"
EXIT_TASK_FAILED = 3
"""The runner's exit code for a task that ran and failed."""
EXIT_PUSH_FAILED = 4
"""The agent container's exit code when the task branch could not be pushed."""
_TASK_VOLUME = "task"
# Leave the runner time to commit and the script time to push before the Job's deadline.
_PUSH_MARGIN_SECONDS = 60

# Positional parameters only; the runner's report goes to stdout and the termination message.
AGENT_SCRIPT = f"""set -u
yokeflow runner task "$@" > /tmp/report.json
status=$?
cat /tmp/report.json
head -c 4096 /tmp/report.json > /dev/termination-log 2>/dev/null || true
cd "$REPO"
if [ -n "$(git rev-list -n 1 "$BASE_COMMIT..HEAD" 2>/dev/null)" ]; then
  git push --quiet origin "HEAD:refs/heads/$BRANCH" || exit {EXIT_PUSH_FAILED}
fi
exit $status
"""


def task_labels(run: str, batch_number: int, task: str, attempt: int) -> dict[str, str]:
    """The labels of a task Job and its pod (the NetworkPolicy selects on the first ones)."""
    return {
        **common_labels(run, COMPONENT_AGENT),
        LABEL_BATCH: str(batch_number),
        LABEL_TASK: label_value(task),
        LABEL_ATTEMPT: str(attempt),
    }


def mcp_config(mcp_url: str, token: str) -> str:
    """The runner's ``--mcp-config`` file: the task manager over HTTP with the task's token."""
    return json.dumps(
        {
            "mcpServers": {
                "task-manager": {
                    "type": "http",
                    "url": mcp_url,
                    "headers": {"Authorization": f"Bearer {token}"},
                }
            }
        },
        indent=2,
        sort_keys=True,
    )


def build_task_secret(
    *,
    run: str,
    namespace: str,
    batch: Owner,
    batch_number: int,
    task: str,
    attempt: int,
    mcp_url: str,
    token: str,
    plan_yaml: str,
) -> Secret:
    """The Secret of one task attempt: the MCP configuration holding its token, and the plan
    file the runner reads the task from (agents never reach the database).

    ``token`` is scoped to the run and task and expires (the operator mints it); ``plan_yaml``
    is a plan file holding at least this task. Owned by the TaskBatch, named after the Job.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": task_secret_name(task_job_name(run, task, attempt)),
            "namespace": namespace,
            "labels": task_labels(run, batch_number, task, attempt),
            "annotations": {ANNOTATION_TASK_KEY: task},
            "ownerReferences": [owner_reference(batch)],
        },
        "type": "Opaque",
        "stringData": {MCP_CONFIG_KEY: mcp_config(mcp_url, token), TASK_PLAN_KEY: plan_yaml},
    }


def build_task_job(
    *,
    run: str,
    namespace: str,
    spec: ProjectRunSpec,
    batch: Owner,
    batch_number: int,
    task: BatchTask,
    attempt: int,
    base_commit: str,
    integration_branch: str,
    settings: PodSettings,
) -> Job:
    """The Job of attempt ``attempt`` (from 1) of ``task``, owned by its TaskBatch ``batch``.

    ``base_commit`` is the integration commit the task starts from; ``integration_branch`` the
    branch it is on. The Job is created suspended when the run names a Kueue queue (Kueue admits
    it); the operator never un-suspends it.
    """
    name = task_job_name(run, task.key, attempt)
    image = spec.agent.image or settings.image
    git_vols, _ = git_volumes(spec)
    shape = JobShape(
        name=name,
        namespace=namespace,
        owner=batch,
        labels=task_labels(run, batch_number, task.key, attempt),
        annotations={ANNOTATION_TASK_KEY: task.key},
        deadline_seconds=spec.agent.timeouts.task_seconds,
        ttl_seconds=spec.agent.timeouts.finished_ttl_seconds,
        job_labels={QUEUE_NAME_LABEL: spec.queue_name} if spec.queue_name is not None else None,
        suspend=spec.queue_name is not None,
    )
    task_volume: Volume = {
        "name": _TASK_VOLUME,
        "secret": {"secretName": task_secret_name(name), "defaultMode": 0o400},
    }
    return job(
        shape,
        settings,
        [clone_container(spec, settings, image, base_commit, task.branch)],
        [_agent_container(spec, settings, image, task, run, base_commit, integration_branch)],
        [*scratch_volumes(settings), *git_vols, task_volume],
    )


def _agent_container(
    spec: ProjectRunSpec,
    settings: PodSettings,
    image: str,
    task: BatchTask,
    run: str,
    base_commit: str,
    integration_branch: str,
) -> Container:
    _, git_mounts = git_volumes(spec)
    runner_timeout = max(30, spec.agent.timeouts.task_seconds - _PUSH_MARGIN_SECONDS)
    args = [
        "--project",
        run,
        "--task",
        task.key,
        "--worktree",
        REPO_DIR,
        "--plan",
        f"{TASK_DIR}/{TASK_PLAN_KEY}",
        "--branch",
        task.branch,
        "--base-branch",
        integration_branch,
        "--model",
        task.model,
        "--mcp-config",
        f"{TASK_DIR}/{MCP_CONFIG_KEY}",
        "--max-turns",
        str(spec.agent.max_turns),
        "--timeout",
        str(runner_timeout),
    ]
    if settings.model_endpoint is not None:
        args += ["--endpoint", settings.model_endpoint]
    env: list[EnvVar] = [
        *git_env(spec),
        {"name": "REPO", "value": REPO_DIR},
        {"name": "BRANCH", "value": task.branch},
        {"name": "BASE_COMMIT", "value": base_commit},
        *api_key_env(spec, settings),
    ]
    return {
        "name": "agent",
        "image": image,
        "command": ["sh", "-c", AGENT_SCRIPT, "agent"],
        "args": args,
        "workingDir": REPO_DIR,
        "env": env,
        "volumeMounts": [
            *scratch_mounts(settings),
            *git_mounts,
            {"name": _TASK_VOLUME, "mountPath": TASK_DIR, "readOnly": True},
        ],
        "resources": _resources(spec, settings),
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def _resources(spec: ProjectRunSpec, settings: PodSettings) -> ResourceRequirements:
    wanted = spec.agent.resources
    return {
        "requests": dict(wanted.requests) or dict(settings.default_requests),
        "limits": dict(wanted.limits) or dict(settings.default_limits),
    }
