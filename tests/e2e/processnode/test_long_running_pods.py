"""Pods of Deployments on the process node: kept running, Ready when their readiness probe
passes, started again (restartCount, lastState) when their process ends; and a pod that mounts
its service account's token reaches the API server as that account with an in-cluster client."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

pytestmark = pytest.mark.controlplane


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _deployment(name: str, container: dict[str, Any], **pod: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {**placement(), "containers": [container], **pod},
            },
        },
    }


def _pod(kubectl: Kubectl, namespace: str, app: str) -> dict[str, Any]:
    (pod,) = kubectl.get("pods", "-n", namespace, "-l", f"app={app}")["items"]
    return dict(pod)


def _until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {timeout:g}s: {what}"
        time.sleep(0.3)


def test_a_deployment_is_ready_by_its_probe_and_restarted_when_it_ends(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode
) -> None:
    port = _free_port()
    # Serves for a while (readiness passes), then exits 1: the node starts it again.
    script = (
        f"import http.server, threading, time, sys\n"
        f"s = http.server.HTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)\n"
        f"threading.Thread(target=s.serve_forever, daemon=True).start()\n"
        f"time.sleep(4)\n"
        f"sys.exit(1)\n"
    )
    container = {
        "name": "web",
        "image": "none",
        "command": ["python", "-c", script],
        "ports": [{"name": "http", "containerPort": port}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
    }
    kubectl.apply(_deployment("web", container, automountServiceAccountToken=False),
                  "-n", namespace)  # fmt: skip

    def available() -> bool:
        found = kubectl.get("deployment", "web", "-n", namespace)
        return bool(found.get("status", {}).get("availableReplicas") == 1)

    _until(available, "the Deployment available")
    pod = _pod(kubectl, namespace, "web")
    assert pod["spec"]["nodeName"] == process_node.name

    def restarted() -> dict[str, Any] | None:
        (status,) = _pod(kubectl, namespace, "web")["status"]["containerStatuses"]
        return status if status["restartCount"] >= 1 else None

    status = _until(restarted, "the container started again")
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert _pod(kubectl, namespace, "web")["status"]["phase"] == "Running"


def test_a_pod_with_its_service_account_token_uses_an_in_cluster_client(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode
) -> None:
    # The in-cluster client reads the token and CA at their fixed path; the default account
    # may read nothing, so the API server answers 403 *to that account* — proof of who called.
    script = (
        "import asyncio, kubernetes_asyncio.config as c, kubernetes_asyncio.client as k\n"
        "async def main():\n"
        "    conf = k.Configuration(); c.load_incluster_config(client_configuration=conf)\n"
        "    async with k.ApiClient(conf) as api:\n"
        "        try:\n"
        "            await k.CoreV1Api(api).list_namespaced_secret('default')\n"
        "        except k.ApiException as exc:\n"
        "            print(exc.status, exc.body)\n"
        "asyncio.run(main())\n"
    )
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "whoami"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    **placement(),
                    "containers": [{
                        "name": "client", "image": "none", "command": ["python", "-c", script],
                        "terminationMessagePolicy": "FallbackToLogsOnError",
                    }],
                }
            },
        },
    }  # fmt: skip
    kubectl.apply(job, "-n", namespace)

    def finished() -> dict[str, Any] | None:
        found = kubectl.get("pods", "-n", namespace, "-l", "job-name=whoami")["items"]
        done = [p for p in found if p["status"].get("phase") in ("Succeeded", "Failed")]
        return done[0] if done else None

    pod = _until(finished, "the client's pod finished")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    log = process_node.pod_folder(pod["metadata"]["uid"]) / "logs" / "client.log"
    text = log.read_text()
    assert text.startswith("403"), text
    assert f"system:serviceaccount:{namespace}:default" in text
