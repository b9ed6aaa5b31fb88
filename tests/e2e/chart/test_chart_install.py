"""A real `helm install` of the chart into the session's control plane: the chart's own operator
and API pods run on the process node — each a process of this machine's `yokeflow`, the command
the process node stands in for the images' ENTRYPOINT (``--entrypoint``, see
yokeflow.testing.processnode) — with the chart's ServiceAccount token, its RBAC and its settings
file. `helm install --wait` sees them Ready; a ProjectRun applied with kubectl reaches Succeeded
with real agents (its task and merge Jobs on the process node too: the runner, the real CLI
against the scripted model, the operator's MCP task manager, pushes to the git server);
`helm uninstall` leaves the CRDs, the run and its branches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from yokeflow.specs.names import network_policy_name
from yokeflow.testing.agents import scripted_model
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import git, make_repository
from yokeflow.testing.gitserver import GitServer
from yokeflow.testing.helm import Helm
from yokeflow.testing.postgres import PG15_URL_ENV, create_database, drop_database
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

pytestmark = [
    pytest.mark.controlplane,
    pytest.mark.postgres,
    pytest.mark.agent,
    pytest.mark.timeout(300),
]

_CRDS = ("projectruns.yokeflow.io", "taskbatches.yokeflow.io")
_PLAN = {
    "name": "chart",
    "epics": [
        {
            "key": "core",
            "name": "Core",
            "tasks": [
                {"key": "models", "title": "Write the models"},
                {"key": "store", "title": "Write the store"},
            ],
        }
    ],
}
_SCENARIO = """
rules:
  - task: models
    turns:
      - tool: mcp__task-manager__start_task
        input: {}
      - tool: Write
        input: {file_path: "{cwd}/models.py", content: "MODELS = []\\n"}
      - tool: mcp__task-manager__update_task_status
        input: {status: done}
      - text: "Models written."
  - task: store
    turns:
      - tool: Write
        input: {file_path: "{cwd}/store.py", content: "STORE = {}\\n"}
      - text: "Store written."
"""


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the PostgreSQL 15 test server for the release."""
    admin = os.environ.get(PG15_URL_ENV)
    if not admin:
        pytest.fail(f"{PG15_URL_ENV} is not set: source .test-services.env")
    name = f"yf_chart_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(admin, name))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin, name))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _adopt_crds(kubectl: Kubectl, release: str, namespace: str) -> None:
    """CRDs an earlier test applied become this release's, as Helm documents adoption."""
    for crd in _CRDS:
        if kubectl.attempt("get", "crd", crd).returncode == 0:
            kubectl.run("annotate", "--overwrite", "crd", crd,
                        f"meta.helm.sh/release-name={release}",
                        f"meta.helm.sh/release-namespace={namespace}")  # fmt: skip
            kubectl.run("label", "--overwrite", "crd", crd, "app.kubernetes.io/managed-by=Helm")


def _wait_phase(kubectl: Kubectl, namespace: str, name: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = kubectl.get("projectrun", name, "-n", namespace)
        if run.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return run
        assert time.monotonic() < deadline, json.dumps(run.get("status"), indent=1)
        time.sleep(0.5)


def _release_run(kubectl: Kubectl, namespace: str) -> None:
    for resource in ("projectruns.yokeflow.io", "taskbatches.yokeflow.io"):
        kubectl.drop_finalizers(resource, "-n", namespace)
        kubectl.run("delete", resource, "--all", "-n", namespace, "--wait=false")


def test_helm_install_runs_the_charts_operator_a_run_succeeds_and_uninstall_keeps_crds(
    helm: Helm,
    chart: Path,
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    database: str,
    tmp_path: Path,
) -> None:
    with contextlib.ExitStack() as stack:
        _install_run_uninstall(stack, helm, chart, kubectl, namespace, process_node, git_server,
                               database, tmp_path)  # fmt: skip


def _install_run_uninstall(
    stack: contextlib.ExitStack,
    helm: Helm,
    chart: Path,
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    database: str,
    tmp_path: Path,
) -> None:
    kubectl.run("create", "secret", "generic", "external-db", "-n", namespace,
                f"--from-literal=url={database}")  # fmt: skip
    health, metrics, mcp, api = (_free_port() for _ in range(4))
    pods_on_this_node = placement()
    model = stack.enter_context(scripted_model(_SCENARIO))
    values = {
        "config": {
            "operator": {
                "namespaces": [namespace],
                "liveness_port": health,
                "metrics_port": metrics,
                "mcp_port": mcp,
                "resync_seconds": 2,
                # The agents' Jobs run on the process node too.
                "pod_node_selector": pods_on_this_node["nodeSelector"],
                "pod_tolerations": pods_on_this_node["tolerations"],
            },
            "database": {"pool_max_size": 3},
            "agent": {"model_endpoint": model.url},
        },
        "database": {"existingSecret": "external-db"},
        "operator": {"mcpUrl": f"http://127.0.0.1:{mcp}", **pods_on_this_node},
        "api": {
            "port": api,
            "auth": {"token": "chart-e2e-api-token-0123456789"},
            **pods_on_this_node,
        },
    }
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    _adopt_crds(kubectl, "demo", namespace)

    started = time.monotonic()
    notes = helm.run("install", "demo", str(chart), "-n", namespace,
                     "-f", str(tmp_path / "values.yaml"), "--wait", "--timeout=120s")  # fmt: skip
    installed_in = time.monotonic() - started
    assert "rollout status deployment/demo-yokeflow-operator" in notes
    (release,) = json.loads(helm.run("list", "-n", namespace, "-o", "json"))
    assert release["status"] == "deployed"

    # The operator really runs in its pod: on the process node, with the chart's identity.
    pods = kubectl.get("pods", "-n", namespace, "-l", "app.kubernetes.io/component=operator")
    (pod,) = pods["items"]
    assert pod["spec"]["nodeName"] == process_node.name
    assert pod["spec"]["serviceAccountName"] == "demo-yokeflow-operator"
    assert pod["status"]["phase"] == "Running"
    assert _status(f"http://127.0.0.1:{health}/healthz") == 200
    assert _status(f"http://127.0.0.1:{metrics}/metrics") == 200
    assert _status(f"http://127.0.0.1:{api}/readyz") == 200
    operator = kubectl.get("deployment", "demo-yokeflow-operator", "-n", namespace)
    assert operator["status"]["readyReplicas"] == 1
    operator_log = process_node.pod_folder(pod["metadata"]["uid"]) / "logs" / "operator.log"

    source = make_repository(tmp_path / "source", {"README.md": "# chart\n"})
    repository = f"chart-{namespace}"
    url = git_server.publish(source, repository)
    run = {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": "chart-run"},
        "spec": {"repository": {"url": url}, "plan": _PLAN},
    }
    kubectl.apply(run, "-n", namespace)
    # After the uninstall the run and its TaskBatches keep the operator's finalizers (nothing is
    # lost); the test lets them go so its namespace can be deleted.
    stack.callback(_release_run, kubectl, namespace)
    applied = time.monotonic()
    done = _wait_phase(kubectl, namespace, "chart-run", timeout=150)
    succeeded_in = time.monotonic() - applied
    assert done["status"]["phase"] == "Succeeded", json.dumps(done["status"], indent=1)
    assert done["status"]["progress"] == "2/2"
    integration = "yokeflow/chart-run/integration"
    branches = git_server.branches(repository)
    assert integration in branches, branches
    bare = git_server.bare_path(repository)
    assert git(bare, "show", f"{integration}:models.py") == "MODELS = []"
    assert git(bare, "show", f"{integration}:store.py") == "STORE = {}"
    jobs = kubectl.get("jobs", "-n", namespace)["items"]
    assert jobs
    assert {j["spec"]["template"]["spec"]["nodeSelector"].get("yokeflow.io/process-node")
            for j in jobs} == {"true"}  # fmt: skip

    # The chart's RBAC is all the operator needed: the API server refused it nothing.
    log = operator_log.read_text(encoding="utf-8", errors="replace")
    assert "forbidden" not in log.lower(), log[-3000:]
    # ...its NetworkPolicy included (created with the chart's RBAC, owned by the run).
    policy = kubectl.get("networkpolicy", network_policy_name("chart-run"), "-n", namespace)
    assert policy["metadata"]["ownerReferences"][0]["uid"] == done["metadata"]["uid"]
    assert len(policy["spec"]["egress"]) == 4  # DNS, the model, the MCP server, git

    started = time.monotonic()
    helm.run("uninstall", "demo", "-n", namespace, "--wait", "--timeout=60s")
    uninstalled_in = time.monotonic() - started
    assert json.loads(helm.run("list", "-n", namespace, "-o", "json")) == []
    for crd in _CRDS:  # kept: helm.sh/resource-policy
        assert kubectl.attempt("get", "crd", crd).returncode == 0, crd
    kept = kubectl.get("projectrun", "chart-run", "-n", namespace)
    assert kept["status"]["phase"] == "Succeeded"
    assert git_server.branches(repository) == branches  # the run's work stays where it landed
    deadline = time.monotonic() + 30
    while _status(f"http://127.0.0.1:{health}/healthz") != 0:  # the pod's process is gone
        assert time.monotonic() < deadline, "the operator's process outlived its pod"
        time.sleep(0.3)
    print(f"install {installed_in:.1f}s, run {succeeded_in:.1f}s, uninstall {uninstalled_in:.1f}s")
