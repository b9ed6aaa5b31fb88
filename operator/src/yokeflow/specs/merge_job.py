"""The merge Job: brings a TaskBatch's finished task branches onto the integration branch.

Its pod clones the run's repository at the integration commit and runs ``yokeflow runner
merge`` — the merge queue's code: it fetches the task branches, merges one after another, in the
given order, with the run's merge strategy, and pushes the integration branch. The push is never
forced: when the remote's branch moved meanwhile, the runner fetches it and merges again on the
new tip (what is already there counts as merged, never merged twice); when it still cannot push,
it exits 4. It exits 3 when a named branch is missing or could not be merged; a conflict is an
answer, not a failure (exit 0, the task listed under ``conflicted``). Task branches are never
deleted or moved on the remote, so a task whose branch conflicts stays preserved on it. The
runner's JSON report is the termination message.
"""

from __future__ import annotations

from collections.abc import Sequence

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.jobs import JobShape, job
from yokeflow.specs.names import COMPONENT_MERGE, LABEL_BATCH, Owner, common_labels, merge_job_name
from yokeflow.specs.objects import Container, Job
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

__all__ = ["MERGE_DEADLINE_SECONDS", "build_merge_job"]

MERGE_DEADLINE_SECONDS = 1800
"""The merge Job's ``activeDeadlineSeconds`` (a conflict-resolving agent may need a while)."""

MERGE_SCRIPT = """set -u
yokeflow runner merge "$@" > /tmp/report.json
status=$?
cat /tmp/report.json
head -c 4096 /tmp/report.json > /dev/termination-log 2>/dev/null || true
exit $status
"""


def build_merge_job(
    *,
    run: str,
    namespace: str,
    spec: ProjectRunSpec,
    batch: Owner,
    batch_number: int,
    tasks: Sequence[tuple[str, str]],
    integration_branch: str,
    integration_commit: str,
    settings: PodSettings,
    attempt: int = 1,
) -> Job:
    """The merge Job of TaskBatch ``batch``: merge ``tasks`` — (task key, task branch) pairs, in
    merge order — onto ``integration_branch``, which is at ``integration_commit``.

    The runner is called as ``yokeflow runner merge --repository /workspace/repo
    --integration-branch B --strategy merge|squash --task KEY=BRANCH …`` (the remote is the
    clone's ``origin``).
    """
    if not tasks:
        raise ValueError("a merge Job needs at least one task branch")
    image = spec.agent.image or settings.image
    git_vols, git_mounts = git_volumes(spec)
    labels = {**common_labels(run, COMPONENT_MERGE), LABEL_BATCH: str(batch_number)}
    shape = JobShape(
        name=merge_job_name(run, batch_number, attempt),
        namespace=namespace,
        owner=batch,
        labels=labels,
        annotations={},
        deadline_seconds=MERGE_DEADLINE_SECONDS,
        ttl_seconds=spec.agent.timeouts.finished_ttl_seconds,
    )
    args = [
        "--repository",
        REPO_DIR,
        "--integration-branch",
        integration_branch,
        "--strategy",
        spec.parallel.merge_strategy,
    ]
    for key, branch in tasks:
        args += ["--task", f"{key}={branch}"]
    merge: Container = {
        "name": "merge",
        "image": image,
        "command": ["sh", "-c", MERGE_SCRIPT, "merge"],
        "args": args,
        "workingDir": REPO_DIR,
        "env": [
            *git_env(spec),
            {"name": "REPO", "value": REPO_DIR},
            *api_key_env(spec, settings),
        ],
        "volumeMounts": [*scratch_mounts(settings), *git_mounts],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    return job(
        shape,
        settings,
        [clone_container(spec, settings, image, integration_commit, integration_branch)],
        [merge],
        [*scratch_volumes(settings), *git_vols],
    )
