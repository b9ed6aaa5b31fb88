"""The shell steps of the Job builders, run for real: `sh`, real git, a real (bare) remote.

The builders' containers are taken as built — command, arguments and plain environment — with
only the mount paths pointed into a temporary folder. In place of the `yokeflow` command a small
script stands, which commits (or merges) the way the runner does and exits with the runner's
codes: what is tested here is the contract of the pod's script around it — clone at the right
commit, push whatever was committed even when the task failed, never force, keep the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import Owner
from yokeflow.specs.objects import Container
from yokeflow.specs.pods import REPO_DIR, PodSettings
from yokeflow.specs.task_job import EXIT_PUSH_FAILED, EXIT_TASK_FAILED, build_task_job
from yokeflow.testing.git_repos import commit_file, git, make_repository

OWNER = Owner("yokeflow.io/v1alpha1", "TaskBatch", "b", "u")
SETTINGS = PodSettings(image="agent", mcp_url="http://mcp/mcp")
TASK = BatchTask(key="t1", title="T", epic="e", model="m", branch="yokeflow/run/t1")

FAKE_RUNNER = """#!/bin/sh
# Stands in for `yokeflow runner task`: does what the runner does to the repository.
case "$2" in
  task)
    cd "$REPO"
    if [ "$FAKE_OUTCOME" != nothing ]; then
      echo work > work.txt && git add work.txt && git commit -qm "task work"
    fi
    echo '{"success": false}'
    [ "$FAKE_OUTCOME" = done ] && exit 0
    exit 3 ;;
esac
"""


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, str]:
    """A bare remote whose `main` has one commit; returns it and that commit."""
    source = make_repository(tmp_path / "source", {"README.md": "hello\n"})
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    return bare, git(source, "rev-parse", "HEAD")


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    runner = folder / "yokeflow"
    runner.write_text(FAKE_RUNNER)
    runner.chmod(0o755)
    return folder


def _spec(remote: Path) -> ProjectRunSpec:
    return ProjectRunSpec.model_validate(
        {"repository": {"url": f"file://{remote}"}, "spec": {"text": "x"}}
    )


def _run(
    container: Container, tmp_path: Path, bin_dir: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({e["name"]: e["value"] for e in container["env"] if "value" in e})
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        REPO=str(tmp_path / "workspace" / "repo"),
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        **extra,
    )
    return subprocess.run(
        [*container["command"], *container["args"]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _task_pod(remote: Path, commit: str) -> tuple[Container, Container]:
    job = build_task_job(
        run="run",
        namespace="n",
        spec=_spec(remote),
        batch=OWNER,
        batch_number=1,
        task=TASK,
        attempt=1,
        base_commit=commit,
        integration_branch="main",
        settings=SETTINGS,
    )
    pod = job["spec"]["template"]["spec"]
    return pod["initContainers"][0], pod["containers"][0]


def test_the_clone_step_checks_out_the_task_branch_at_the_commit(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    clone, _ = _task_pod(bare, commit)

    done = _run(clone, tmp_path, bin_dir)

    assert done.returncode == 0, done.stderr
    repo = tmp_path / "workspace" / "repo"
    assert git(repo, "rev-parse", "HEAD") == commit
    assert git(repo, "branch", "--show-current") == "yokeflow/run/t1"
    assert (repo / "README.md").read_text() == "hello\n"


def test_the_clone_step_borrows_objects_from_a_reference_cache(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    cache = tmp_path / "cache.git"
    git(tmp_path, "clone", "-q", "--mirror", str(bare), str(cache))
    clone, _ = _task_pod(bare, commit)
    clone = {**clone, "args": [*clone["args"][:3], str(cache)]}

    done = _run(clone, tmp_path, bin_dir)

    assert done.returncode == 0, done.stderr
    alternates = tmp_path / "workspace/repo/.git/objects/info/alternates"
    assert str(cache) in alternates.read_text()


def test_a_commit_the_base_branch_lacks_is_fetched(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, _ = remote
    # A commit reachable only from another branch of the remote (the integration branch).
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    git(work, "checkout", "-q", "-b", "integration")
    git(work, "config", "user.email", "d@example.com")
    git(work, "config", "user.name", "D")
    newer = commit_file(work, "merged.txt", "dependency work\n")
    git(work, "push", "-q", "origin", "integration")
    clone, _ = _task_pod(bare, newer)

    done = _run(clone, tmp_path, bin_dir)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "workspace/repo/merged.txt").is_file()


@pytest.mark.parametrize(("outcome", "code"), [("done", 0), ("failed", EXIT_TASK_FAILED)])
def test_the_agent_step_pushes_the_work_and_keeps_the_runners_exit_code(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path, outcome: str, code: int
) -> None:
    bare, commit = remote
    clone, agent = _task_pod(bare, commit)
    assert _run(clone, tmp_path, bin_dir).returncode == 0

    done = _run(agent, tmp_path, bin_dir, FAKE_OUTCOME=outcome)

    assert done.returncode == code, done.stderr
    assert '{"success": false}' in done.stdout  # the report is printed
    pushed = git(bare, "rev-parse", "refs/heads/yokeflow/run/t1")
    assert git(bare, "rev-parse", f"{pushed}^") == commit


def test_nothing_committed_pushes_nothing(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    clone, agent = _task_pod(bare, commit)
    assert _run(clone, tmp_path, bin_dir).returncode == 0

    done = _run(agent, tmp_path, bin_dir, FAKE_OUTCOME="nothing")

    assert done.returncode == EXIT_TASK_FAILED
    assert git(bare, "branch", "--list", "yokeflow/run/t1") == ""


def test_a_push_that_is_not_a_fast_forward_fails_instead_of_forcing(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    clone, agent = _task_pod(bare, commit)
    assert _run(clone, tmp_path, bin_dir).returncode == 0
    # Meanwhile the branch appears on the remote with other work.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    git(other, "config", "user.email", "d@example.com")
    git(other, "config", "user.name", "D")
    elsewhere = commit_file(other, "elsewhere.txt", "pushed meanwhile\n")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/yokeflow/run/t1")

    done = _run(agent, tmp_path, bin_dir, FAKE_OUTCOME="done")

    assert done.returncode == EXIT_PUSH_FAILED
    assert git(bare, "rev-parse", "refs/heads/yokeflow/run/t1") == elsewhere


def test_a_new_attempt_continues_from_the_branch_an_earlier_one_pushed(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    first = tmp_path / "first"
    first.mkdir()
    clone, agent = _task_pod(bare, commit)
    assert _run(clone, first, bin_dir).returncode == 0
    assert _run(agent, first, bin_dir, FAKE_OUTCOME="failed").returncode == EXIT_TASK_FAILED
    earlier = git(bare, "rev-parse", "refs/heads/yokeflow/run/t1")

    assert _run(clone, tmp_path, bin_dir).returncode == 0
    repo = tmp_path / "workspace" / "repo"
    assert git(repo, "rev-parse", "HEAD") == earlier
    done = _run(agent, tmp_path, bin_dir, FAKE_OUTCOME="done")

    assert done.returncode == 0, done.stderr
    pushed = git(bare, "rev-parse", "refs/heads/yokeflow/run/t1")
    assert git(bare, "merge-base", earlier, pushed) == earlier  # a fast-forward, nothing lost


def test_the_merge_step_pushes_the_integration_branch(
    remote: tuple[Path, str], tmp_path: Path, bin_dir: Path
) -> None:
    bare, commit = remote
    clone, agent = _task_pod(bare, commit)
    assert _run(clone, tmp_path, bin_dir).returncode == 0
    assert _run(agent, tmp_path, bin_dir, FAKE_OUTCOME="done").returncode == 0
    task_head = git(bare, "rev-parse", "refs/heads/yokeflow/run/t1")
    job = build_merge_job(
        run="run",
        namespace="n",
        spec=_spec(bare),
        batch=OWNER,
        batch_number=1,
        tasks=[("t1", "yokeflow/run/t1")],
        integration_branch="main",
        integration_commit=commit,
        settings=SETTINGS,
    )
    pod = job["spec"]["template"]["spec"]
    merge_dir = tmp_path / "merge"
    merge_dir.mkdir()
    real = Path(sys.executable).parent  # the real `yokeflow runner merge`

    merge = pod["containers"][0]
    local_repo = str(merge_dir / "workspace" / "repo")
    merge = {**merge, "args": [a.replace(REPO_DIR, local_repo) for a in merge["args"]]}

    assert _run(pod["initContainers"][0], merge_dir, real).returncode == 0
    done = _run(merge, merge_dir, real)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["merged"] == ["t1"]
    assert git(bare, "rev-parse", "refs/heads/main^2") == task_head  # the task's side
    assert git(bare, "rev-parse", "refs/heads/main^1") == commit
