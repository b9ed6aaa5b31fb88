"""A merge Job built by ``build_merge_job`` runs ``yokeflow runner merge`` for real on the process
node: it fetches two task branches from the git server, merges the clean one, keeps the
conflicting one untouched, pushes the integration branch and reports in its termination message;
the same merge run again (an operator restart) merges nothing twice."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import Owner, merge_job_name
from yokeflow.specs.pods import PodSettings
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import commit_file, git, make_repository
from yokeflow.testing.gitserver import GitServer
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(180)]


def _finished(kubectl: Kubectl, namespace: str, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for pod in kubectl.get("pods", "-n", namespace, "-l", f"job-name={job}")["items"]:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                (merge,) = pod["status"]["containerStatuses"]
                return dict(merge["state"]["terminated"])
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in 90 s")


def test_a_merge_job_merges_the_clean_branch_keeps_the_conflict_and_is_idempotent(
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    work = make_repository(tmp_path / "work", {"README.md": "hello\n"})
    git(work, "checkout", "-q", "-b", "notes/clean")
    commit_file(work, "clean.txt", "clean work\n")
    git(work, "checkout", "-q", "-b", "notes/clash", "main")
    commit_file(work, "README.md", "the task's readme\n")
    git(work, "checkout", "-q", "main")
    integration = commit_file(work, "README.md", "the integration's readme\n")
    name = f"merge-{namespace}"
    url = git_server.publish(work, name)
    before = git_server.branches(name)
    spec = ProjectRunSpec.model_validate(
        {
            "repository": {"url": url},
            "spec": {"text": "Notes."},
            "parallel": {"mergeStrategy": "merge"},
        }
    )
    kubectl.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "batch-owner"}},
        "-n",
        namespace,
    )
    uid = kubectl.get("configmap", "batch-owner", "-n", namespace)["metadata"]["uid"]
    owner = Owner("v1", "ConfigMap", "batch-owner", uid)
    settings = PodSettings(
        image="unused",
        mcp_url="http://unused/mcp",
        node_selector=placement()["nodeSelector"],
        tolerations=tuple(placement()["tolerations"]),
    )

    reports = []
    for attempt in (1, 2):
        job = build_merge_job(
            run="notes",
            namespace=namespace,
            spec=spec,
            batch=owner,
            batch_number=1,
            tasks=[("clean", "notes/clean"), ("clash", "notes/clash")],
            integration_branch="main",
            integration_commit=integration,
            settings=settings,
            attempt=attempt,
        )
        kubectl.apply(job, "-n", namespace)
        ended = _finished(kubectl, namespace, merge_job_name("notes", 1, attempt))
        assert ended["exitCode"] == 0, ended
        reports.append(json.loads(ended["message"]))
        if attempt == 1:
            merged = git_server.branches(name)["main"]

    first, second = reports
    assert first["merged"] == ["clean"]
    assert first["conflicts"] == [{"key": "clash", "files": ["README.md"]}]
    assert first["pushed"] is True
    assert first["integration_commit"] == merged
    bare = git_server.bare_path(name)
    assert git(bare, "rev-parse", "main^1") == integration
    assert git(bare, "show", "main:clean.txt") == "clean work"
    assert git(bare, "show", "main:README.md") == "the integration's readme"
    # The second run found everything where the first left it: no new commit.
    assert [t["status"] for t in second["tasks"]] == ["already_merged", "conflict"]
    after = git_server.branches(name)
    assert after["main"] == merged
    # The task branches on the server are untouched (the conflicting one keeps its work).
    assert after["notes/clean"] == before["notes/clean"]
    assert after["notes/clash"] == before["notes/clash"]
