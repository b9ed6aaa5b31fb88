"""yokeflow.specs.task_job: the Job of one task attempt and its Secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.names import Owner, task_job_name, task_secret_name
from yokeflow.specs.objects import Container, Job
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import build_task_job, build_task_secret

COMMIT = "c" * 40


def _job(spec: ProjectRunSpec, batch: Owner, task: BatchTask, settings: PodSettings) -> Job:
    return build_task_job(
        run="todo",
        namespace="team-a",
        spec=spec,
        batch=batch,
        batch_number=2,
        task=task,
        attempt=1,
        base_commit=COMMIT,
        integration_branch="yokeflow/todo/integration",
        settings=settings,
    )


def _env(container: Container) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_the_job_is_named_for_run_task_and_attempt_and_owned_by_its_batch(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    job = _job(spec, batch_owner, task, settings)

    assert job["metadata"]["name"] == task_job_name("todo", "api-auth", 1)
    assert job["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["ownerReferences"][0]["uid"] == "uid-batch"
    assert job["metadata"]["annotations"] == {"yokeflow.io/task-key": "api-auth"}
    labels = job["metadata"]["labels"]
    assert labels["yokeflow.io/project-run"] == "todo"
    assert labels["yokeflow.io/batch"] == "2"
    assert labels["yokeflow.io/attempt"] == "1"
    assert job["spec"]["template"]["metadata"]["labels"] == labels


def test_the_job_controller_never_retries_and_the_run_sets_deadline_and_ttl(
    make_spec: Callable[..., ProjectRunSpec],
    batch_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    spec = make_spec(agent={"timeouts": {"taskSeconds": 900, "finishedTtlSeconds": 120}})
    job = _job(spec, batch_owner, task, settings)

    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 900
    assert job["spec"]["ttlSecondsAfterFinished"] == 120
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["suspend"] is False


def test_the_pod_is_non_root_without_a_service_account_token(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    pod = _job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]

    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_clone_step_checks_out_the_task_branch_at_the_integration_commit(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    pod = _job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]
    clone = pod["initContainers"][0]

    assert clone["args"] == [
        "https://git.example.com/acme/todo.git",
        COMMIT,
        "yokeflow/todo/api-auth",
        "",
    ]
    # The URL and branch are arguments of the script, never part of its text.
    assert "git.example.com" not in clone["command"][2]
    assert {m["mountPath"] for m in clone["volumeMounts"]} >= {"/workspace"}
    workspace = next(v for v in pod["volumes"] if v["name"] == "workspace")
    assert workspace["emptyDir"] == {"sizeLimit": "10Gi"}


def test_with_a_reference_cache_the_clone_uses_it_read_only(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    cached = PodSettings(
        image=settings.image,
        mcp_url=settings.mcp_url,
        reference_cache_claim="git-cache",
        worktree_storage_class="fast",
    )
    pod = _job(spec, batch_owner, task, cached)["spec"]["template"]["spec"]

    clone = pod["initContainers"][0]
    assert clone["args"][3] == "/var/cache/yokeflow/git/repo.git"
    cache_mount = next(m for m in clone["volumeMounts"] if m["name"] == "reference-cache")
    assert cache_mount["readOnly"] is True
    cache = next(v for v in pod["volumes"] if v["name"] == "reference-cache")
    assert cache["persistentVolumeClaim"] == {"claimName": "git-cache", "readOnly": True}
    workspace = next(v for v in pod["volumes"] if v["name"] == "workspace")
    claim = workspace["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "fast"


def test_the_agent_runs_the_runner_with_its_token_only_in_a_mounted_file(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    job = _job(spec, batch_owner, task, settings)
    pod = job["spec"]["template"]["spec"]
    agent = pod["containers"][0]

    assert agent["args"][:4] == ["--project", "todo", "--task", "api-auth"]
    assert agent["args"][agent["args"].index("--model") + 1] == "claude-sonnet-4-5"
    assert (
        agent["args"][agent["args"].index("--mcp-config") + 1] == "/var/run/yokeflow/task/mcp.json"
    )
    assert "yokeflow runner task" in agent["command"][2]
    env = _env(agent)
    assert not any("TOKEN" in name or "MCP" in name for name in env)
    task_volume = next(v for v in pod["volumes"] if v["name"] == "task")
    assert task_volume["secret"]["secretName"] == task_secret_name(job["metadata"]["name"])
    mount = next(m for m in agent["volumeMounts"] if m["name"] == "task")
    assert mount["readOnly"] is True


def test_credentials_come_from_secrets_through_value_from(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    env = _env(_job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]["containers"][0])

    assert env["ANTHROPIC_API_KEY"] == {
        "secretKeyRef": {"name": "yokeflow-anthropic", "key": "api-key"}
    }
    assert env["GIT_PASSWORD"] == {"secretKeyRef": {"name": "todo-git", "key": "password"}}
    assert env["GIT_CONFIG_KEY_0"] == "credential.helper"


def test_a_runs_own_api_key_secret_and_image_win(
    make_spec: Callable[..., ProjectRunSpec],
    batch_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    spec = make_spec(
        agent={"image": "registry.local/agent:2", "credentialsSecret": {"name": "mine", "key": "k"}}
    )
    agent = _job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]["containers"][0]

    assert agent["image"] == "registry.local/agent:2"
    assert _env(agent)["ANTHROPIC_API_KEY"] == {"secretKeyRef": {"name": "mine", "key": "k"}}


def test_an_ssh_repository_mounts_its_key_and_checks_host_keys(
    make_spec: Callable[..., ProjectRunSpec],
    batch_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    spec = make_spec(
        repository={"url": "git@git.example.com:acme/todo.git", "credentialsSecret": {"name": "k"}}
    )
    pod = _job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]

    env = _env(pod["containers"][0])
    assert "StrictHostKeyChecking=yes" in env["GIT_SSH_COMMAND"]
    assert "GIT_PASSWORD" not in env
    secret = next(v for v in pod["volumes"] if v["name"] == "git-credentials")
    assert secret["secret"] == {"secretName": "k", "defaultMode": 0o400}


def test_resources_come_from_the_run_or_the_operators_defaults(
    make_spec: Callable[..., ProjectRunSpec],
    spec: ProjectRunSpec,
    batch_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    default = _job(spec, batch_owner, task, settings)["spec"]["template"]["spec"]["containers"][0]
    assert default["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "4Gi"},
    }

    own = make_spec(agent={"resources": {"requests": {"cpu": 2}, "limits": {"memory": "8Gi"}}})
    agent = _job(own, batch_owner, task, settings)["spec"]["template"]["spec"]["containers"][0]
    assert agent["resources"] == {"requests": {"cpu": 2}, "limits": {"memory": "8Gi"}}


def test_a_kueue_queue_labels_the_job_and_creates_it_suspended(
    make_spec: Callable[..., ProjectRunSpec],
    batch_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    job = _job(make_spec(queueName="agents"), batch_owner, task, settings)

    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "agents"
    assert job["spec"]["suspend"] is True
    assert "kueue.x-k8s.io/queue-name" not in job["spec"]["template"]["metadata"]["labels"]


def test_no_gitops_tracking_metadata_reaches_the_job(
    spec: ProjectRunSpec, batch_owner: Owner, task: BatchTask, settings: PodSettings
) -> None:
    text = json.dumps(_job(spec, batch_owner, task, settings))

    assert "argocd.argoproj.io" not in text
    assert "app.kubernetes.io/instance" not in text


def test_the_secret_holds_the_mcp_configuration_and_the_plan(batch_owner: Owner) -> None:
    secret = build_task_secret(
        run="todo",
        namespace="team-a",
        batch=batch_owner,
        batch_number=2,
        task="api-auth",
        attempt=1,
        mcp_url="http://mcp:8080/mcp",
        token="tok-123",
        plan_yaml="name: todo\nepics: []\n",
    )

    assert secret["metadata"]["name"] == task_secret_name(task_job_name("todo", "api-auth", 1))
    config = json.loads(secret["stringData"]["mcp.json"])
    server = config["mcpServers"]["task-manager"]
    assert server == {
        "type": "http",
        "url": "http://mcp:8080/mcp",
        "headers": {"Authorization": "Bearer tok-123"},
    }
    assert yaml.safe_load(secret["stringData"]["plan.yaml"])["name"] == "todo"
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "TaskBatch"
