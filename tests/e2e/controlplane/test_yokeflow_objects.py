"""What the pure builders make, sent to the real API server (`--dry-run=server`): every Job,
Secret, NetworkPolicy and TaskBatch is accepted as built, and the pods pass the `restricted` Pod
Security Standard enforced on their namespace."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import Owner
from yokeflow.specs.network_policy import EgressTarget, build_agent_network_policy
from yokeflow.specs.planning_job import build_planning_job, build_planning_secret
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import build_task_job, build_task_secret
from yokeflow.specs.taskbatch import build_task_batch
from yokeflow.testing.controlplane import Kubectl

from .test_yokeflow_crds import yokeflow_crds

pytestmark = pytest.mark.controlplane

__all__ = ["yokeflow_crds"]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RUN = Owner("yokeflow.io/v1alpha1", "ProjectRun", "todo", "6b1d9c9e-0000-4000-8000-000000000001")
BATCH = Owner("yokeflow.io/v1alpha1", "TaskBatch", "todo-1", "6b1d9c9e-0000-4000-8000-000000000002")
TASK = BatchTask(key="API_Auth", title="Login", epic="api", model="m", branch="yokeflow/todo/a")
SETTINGS = PodSettings(
    image="registry.example.com/yokeflow-agent:1",
    mcp_url="http://mcp.yokeflow-system:8080/mcp",
    model_endpoint="http://model.yokeflow-system:8000",
    api_key_secret=("anthropic", "api-key"),
    reference_cache_claim="git-cache",
    worktree_storage_class="standard",
)
SPECS = {
    "https": {"url": "https://git.example.com/a/b.git", "credentialsSecret": {"name": "git"}},
    "ssh": {"url": "git@git.example.com:a/b.git", "credentialsSecret": {"name": "git-ssh"}},
}


@pytest.fixture
def restricted(kubectl: Kubectl, namespace: str) -> str:
    """The test namespace under the `restricted` Pod Security Standard: enforced on pods, and
    warned about on workloads (admission checks a Job's pod template only through warnings)."""
    kubectl.run(
        "label",
        "namespace",
        namespace,
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    )
    return namespace


def _spec(repository: str, **extra: Any) -> ProjectRunSpec:
    return ProjectRunSpec.model_validate(
        {
            "repository": SPECS[repository],
            "spec": {"configMapRef": {"name": "todo-spec"}},
            "queueName": "agents",
            **extra,
        }
    )


def _objects(namespace: str, spec: ProjectRunSpec) -> list[Any]:
    common = {"run": "todo", "namespace": namespace, "spec": spec, "settings": SETTINGS}
    return [
        build_task_job(
            **common,
            batch=BATCH,
            batch_number=1,
            task=TASK,
            attempt=1,
            base_commit=COMMIT,
            integration_branch="yokeflow/todo/integration",
        ),
        build_merge_job(
            **common,
            batch=BATCH,
            batch_number=1,
            tasks=[("API_Auth", TASK.branch)],
            integration_branch="yokeflow/todo/integration",
            integration_commit=COMMIT,
        ),
        build_planning_job(**common, owner=RUN, attempt=1, model="m"),
        build_task_secret(
            run="todo",
            namespace=namespace,
            batch=BATCH,
            batch_number=1,
            task=TASK.key,
            attempt=1,
            mcp_url=SETTINGS.mcp_url,
            token="t",
            plan_yaml="name: p\n",
        ),
        build_planning_secret(
            run="todo",
            namespace=namespace,
            owner=RUN,
            attempt=1,
            spec=spec,
            mcp_url=SETTINGS.mcp_url,
            token="t",
        ),
        build_agent_network_policy(
            run="todo",
            namespace=namespace,
            owner=RUN,
            model=EgressTarget(ports=(443,), cidr="203.0.113.0/24"),
            mcp=EgressTarget(
                ports=(8080,),
                pod_labels={"app": "mcp"},
                namespace_labels={"kubernetes.io/metadata.name": "yokeflow-system"},
            ),
            git=EgressTarget(ports=(9418,), pod_labels={"app": "git"}),
        ),
        build_task_batch(
            run=RUN,
            namespace=namespace,
            number=1,
            base_commit=COMMIT,
            tasks=[TASK],
            merge_strategy="merge",
        ),
    ]


@pytest.mark.parametrize("repository", list(SPECS))
def test_every_built_object_is_accepted_under_the_restricted_pod_standard(
    kubectl: Kubectl, restricted: str, yokeflow_crds: list[str], repository: str
) -> None:
    for manifest in _objects(restricted, _spec(repository)):
        done = kubectl.attempt(
            "create", "--dry-run=server", "-o", "json", "-f", "-", stdin=json.dumps(manifest)
        )
        assert done.returncode == 0, f"{manifest['kind']}: {done.stderr}"
        assert "would violate PodSecurity" not in done.stderr, done.stderr
        created = json.loads(done.stdout)
        assert created["metadata"]["name"] == manifest["metadata"]["name"]


def test_a_pod_template_outside_the_restricted_standard_is_warned_about(
    kubectl: Kubectl, restricted: str
) -> None:
    # The check above can fail: the same Job, made to run as root, draws the warning.
    job = _objects(restricted, _spec("https"))[0]
    job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    done = kubectl.attempt("create", "--dry-run=server", "-f", "-", stdin=json.dumps(job))

    assert "would violate PodSecurity" in done.stderr
