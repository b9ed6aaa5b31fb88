"""The process node runs real processes for pods bound to it: Jobs complete or fail with their
exit codes and termination messages, Secrets/ConfigMaps reach the containers, init containers run
first, deleting a pod stops its process group, and a pod clones from and pushes to the git server."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

import pytest

from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import git, make_repository
from yokeflow.testing.gitserver import GitServer
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

pytestmark = pytest.mark.controlplane


def job(name: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    **placement(),
                    **pod_spec,
                }
            },
        },
    }


def only_pod(kubectl: Kubectl, namespace: str, job_name: str) -> dict[str, Any]:
    found = kubectl.get("pods", "-n", namespace, "-l", f"job-name={job_name}")
    (pod,) = found["items"]
    return dict(pod)


def shell(name: str, script: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "none", "command": ["sh", "-c", script], **extra}


def test_a_job_runs_its_command_with_secrets_config_and_volumes(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode
) -> None:
    secret = base64.b64encode(b"s3cret").decode()
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "data": {"token": secret},
        },
        "-n",
        namespace,
    )
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"mode": "fast", "settings.txt": "line from a config map\n"},
        },
        "-n",
        namespace,
    )
    pod_spec = {
        "volumes": [
            {"name": "work", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "settings"}},
            {"name": "secret", "secret": {"secretName": "creds", "defaultMode": 0o400}},
        ],
        "initContainers": [
            shell(
                "prepare",
                "echo from-init > /work/init.txt",
                volumeMounts=[{"name": "work", "mountPath": "/work"}],
            )
        ],
        "containers": [
            shell(
                "main",
                'cat /work/init.txt > /work/out.txt; echo "$TOKEN $MODE $POD" >> /work/out.txt; '
                "cat /etc/app/settings.txt /run/secret/token >> /work/out.txt; "
                "printf 'all done' > /dev/termination-log",
                env=[
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}},
                    },
                    {
                        "name": "MODE",
                        "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
                    },
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                ],
                volumeMounts=[
                    {"name": "work", "mountPath": "/work"},
                    {"name": "config", "mountPath": "/etc/app"},
                    {"name": "secret", "mountPath": "/run/secret", "readOnly": True},
                ],
            )
        ],
    }
    kubectl.apply(job("runs", pod_spec), "-n", namespace)

    kubectl.run("wait", "--for=condition=Complete", "job/runs", "-n", namespace, "--timeout=60s")

    pod = only_pod(kubectl, namespace, "runs")
    assert pod["spec"]["nodeName"] == process_node.name
    assert pod["status"]["phase"] == "Succeeded"
    (init,) = pod["status"]["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0
    (main,) = pod["status"]["containerStatuses"]
    assert main["state"]["terminated"]["exitCode"] == 0
    assert main["state"]["terminated"]["message"] == "all done"
    out = process_node.pod_folder(pod["metadata"]["uid"]) / "volumes" / "work" / "out.txt"
    assert out.read_text().splitlines() == [
        "from-init",
        f"s3cret fast {namespace}",
        "line from a config map",
        "s3cret",
    ]
    secret_file = process_node.pod_folder(pod["metadata"]["uid"]) / "volumes" / "secret" / "token"
    assert secret_file.stat().st_mode & 0o777 == 0o400


def test_a_failing_command_fails_its_job_with_exit_code_and_message(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode
) -> None:
    script = "echo 'the tests failed' > /dev/termination-log; exit 3"
    kubectl.apply(job("fails", {"containers": [shell("main", script)]}), "-n", namespace)

    kubectl.run("wait", "--for=condition=Failed", "job/fails", "-n", namespace, "--timeout=60s")

    pod = only_pod(kubectl, namespace, "fails")
    assert pod["status"]["phase"] == "Failed"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3
    assert terminated["reason"] == "Error"
    assert terminated["message"].strip() == "the tests failed"


def test_a_failing_init_container_keeps_the_main_container_from_running(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode, tmp_path: Path
) -> None:
    marker = tmp_path / "main-ran"
    pod_spec = {
        "initContainers": [shell("clone", "exit 7")],
        "containers": [shell("main", f"touch {marker}")],
    }
    kubectl.apply(job("init-fails", pod_spec), "-n", namespace)

    kubectl.run(
        "wait", "--for=condition=Failed", "job/init-fails", "-n", namespace, "--timeout=60s"
    )

    pod = only_pod(kubectl, namespace, "init-fails")
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 7
    assert not marker.exists()


def test_deleting_a_running_job_kills_its_process_group(
    kubectl: Kubectl, namespace: str, process_node: RunningProcessNode, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    # The shell and a child of it: both must go when the pod is deleted.
    script = f"sleep 300 & echo $$ $! > {pids}; wait"
    kubectl.apply(job("long", {"containers": [shell("main", script)]}), "-n", namespace)
    deadline = time.monotonic() + 60
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the container did not start in 60s"
        time.sleep(0.2)
    shell_pid, sleep_pid = (int(pid) for pid in pids.read_text().split())

    kubectl.run("delete", "job", "long", "-n", namespace, "--cascade=foreground", "--timeout=60s")

    assert kubectl.get("pods", "-n", namespace, "-l", "job-name=long")["items"] == []
    for pid in (shell_pid, sleep_pid):
        assert not _alive(pid), f"process {pid} outlived its deleted pod"


def test_a_pod_clones_from_and_pushes_to_the_git_server(
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"repo-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    identity = "-c user.name=Agent -c user.email=agent@example.com"
    pod_spec = {
        "volumes": [{"name": "worktree", "emptyDir": {}}],
        "initContainers": [
            shell(
                "clone",
                f"git clone -q {url} /worktree/repo",
                volumeMounts=[{"name": "worktree", "mountPath": "/worktree"}],
            )
        ],
        "containers": [
            shell(
                "agent",
                "cd /worktree/repo && echo work > task.txt && git add task.txt && "
                f"git {identity} commit -q -m 'task work' && git push -q origin HEAD:refs/heads/task/one",
                volumeMounts=[{"name": "worktree", "mountPath": "/worktree"}],
            )
        ],
    }
    kubectl.apply(job("pushes", pod_spec), "-n", namespace)

    kubectl.run("wait", "--for=condition=Complete", "job/pushes", "-n", namespace, "--timeout=60s")

    branches = git_server.branches(name)
    assert set(branches) == {"main", "task/one"}
    bare = git_server.bare_path(name)
    assert git(bare, "show", "task/one:task.txt") == "work"
    assert git(bare, "rev-parse", "task/one~1") == branches["main"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        return stat.read().split(") ", 1)[1].split()[0] != "Z"
