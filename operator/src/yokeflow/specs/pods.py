"""What every YokeFlow pod shares: the operator's pod settings, security contexts, git access, the
worktree volume and the clone step.

:class:`PodSettings` is the part of the operator's settings the builders need, passed in by the
operator (the builders read no settings themselves). Git credentials follow the repository URL:
HTTP(S) gets ``username``/``password`` from the run's Secret through env ``valueFrom`` and a
credential helper configured by environment (nothing written to disk); SSH gets the Secret mounted
read-only (``ssh-privatekey``, ``known_hosts``) and a strict ``GIT_SSH_COMMAND``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.objects import (
    Container,
    EnvVar,
    PodSecurityContext,
    SecurityContext,
    Toleration,
    Volume,
    VolumeMount,
)

__all__ = [
    "GIT_SECRET_DIR",
    "HOME_DIR",
    "REFERENCE_CACHE_DIR",
    "REPO_DIR",
    "WORKSPACE_DIR",
    "PodSettings",
    "api_key_env",
    "clone_container",
    "container_security_context",
    "git_env",
    "git_volumes",
    "is_ssh_url",
    "pod_security_context",
    "scratch_mounts",
    "scratch_volumes",
]

WORKSPACE_DIR = "/workspace"
"""Where the pod's own worktree volume is mounted."""
REPO_DIR = f"{WORKSPACE_DIR}/repo"
"""The clone inside it: the agent's worktree."""
HOME_DIR = "/home/yokeflow"
"""A writable home (the root filesystem is read-only)."""
GIT_SECRET_DIR = "/var/run/yokeflow/git"
"""Where an SSH credentials Secret is mounted."""
REFERENCE_CACHE_DIR = "/var/cache/yokeflow/git"
"""Where a reference cache volume is mounted (read-only); it holds ``<path>`` bare mirrors."""

_WORKSPACE_VOLUME = "workspace"
_HOME_VOLUME = "home"
_TMP_VOLUME = "tmp"
_GIT_SECRET_VOLUME = "git-credentials"
_CACHE_VOLUME = "reference-cache"


@dataclass(frozen=True, slots=True)
class PodSettings:
    """The operator-wide values of the pods it creates (from the operator's settings)."""

    image: str
    """The default agent image (a run's ``spec.agent.image`` overrides it); it holds ``git``
    and the ``yokeflow`` command."""
    mcp_url: str
    """The MCP task manager's HTTP endpoint, as agent pods reach it."""
    model_endpoint: str | None = None
    """A Messages API base URL given to agents as ``ANTHROPIC_BASE_URL``; unset uses Anthropic's."""
    api_key_secret: tuple[str, str] | None = None
    """(Secret name, key) of the model API key when a run names none."""
    run_as_user: int = 10001
    """The non-root user and group every container runs as."""
    worktree_size: str = "10Gi"
    """The size of each pod's worktree volume."""
    worktree_storage_class: str | None = None
    """A StorageClass for the worktree: a generic ephemeral volume of that class. Unset uses an
    ``emptyDir`` with ``worktree_size`` as its limit."""
    reference_cache_claim: str | None = None
    """A PersistentVolumeClaim holding bare mirrors to clone with ``--reference``; unset clones
    in full."""
    reference_cache_path: str = "repo.git"
    """The mirror's path inside the reference cache volume."""
    default_requests: dict[str, int | str] = field(
        default_factory=lambda: {"cpu": "500m", "memory": "1Gi"}
    )
    """Container requests when a run sets none."""
    default_limits: dict[str, int | str] = field(default_factory=lambda: {"memory": "4Gi"})
    """Container limits when a run sets none."""
    node_selector: dict[str, str] = field(default_factory=dict)
    """``nodeSelector`` of every pod (e.g. a node pool for agents); empty: any node."""
    tolerations: tuple[Toleration, ...] = ()
    """``tolerations`` of every pod, for nodes tainted for agents."""


def is_ssh_url(url: str) -> bool:
    """Whether git reaches ``url`` over SSH (``ssh://…`` or ``user@host:path``)."""
    return url.startswith("ssh://") or ("://" not in url and "@" in url and ":" in url)


def pod_security_context(settings: PodSettings) -> PodSecurityContext:
    """Non-root, a fixed user, group-owned volumes, the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": settings.run_as_user,
        "runAsGroup": settings.run_as_user,
        "fsGroup": settings.run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> SecurityContext:
    """No privilege escalation, no capabilities, a read-only root filesystem."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def git_env(spec: ProjectRunSpec) -> list[EnvVar]:
    """Environment for git in any container of the run: identity, credentials, no prompts."""
    env: list[EnvVar] = [
        {"name": "HOME", "value": HOME_DIR},
        {"name": "GIT_TERMINAL_PROMPT", "value": "0"},
        {"name": "GIT_AUTHOR_NAME", "value": "YokeFlow agent"},
        {"name": "GIT_AUTHOR_EMAIL", "value": "agent@yokeflow.io"},
        {"name": "GIT_COMMITTER_NAME", "value": "YokeFlow agent"},
        {"name": "GIT_COMMITTER_EMAIL", "value": "agent@yokeflow.io"},
    ]
    secret = spec.repository.credentials_secret
    if secret is None:
        return env
    if is_ssh_url(spec.repository.url):
        env.append(
            {
                "name": "GIT_SSH_COMMAND",
                "value": (
                    f"ssh -i {GIT_SECRET_DIR}/ssh-privatekey -o IdentitiesOnly=yes"
                    f" -o UserKnownHostsFile={GIT_SECRET_DIR}/known_hosts"
                    " -o StrictHostKeyChecking=yes"
                ),
            }
        )
        return env
    # A credential helper given by environment (git ≥ 2.31): the token never touches the disk.
    helper = '!f() { echo "username=${GIT_USERNAME}"; echo "password=${GIT_PASSWORD}"; }; f'
    env += [
        {
            "name": "GIT_USERNAME",
            "valueFrom": {"secretKeyRef": {"name": secret.name, "key": "username"}},
        },
        {
            "name": "GIT_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": secret.name, "key": "password"}},
        },
        {"name": "GIT_CONFIG_COUNT", "value": "1"},
        {"name": "GIT_CONFIG_KEY_0", "value": "credential.helper"},
        {"name": "GIT_CONFIG_VALUE_0", "value": helper},
    ]
    return env


def git_volumes(spec: ProjectRunSpec) -> tuple[list[Volume], list[VolumeMount]]:
    """The SSH credentials Secret as a read-only volume (none for HTTP(S) or no Secret)."""
    secret = spec.repository.credentials_secret
    if secret is None or not is_ssh_url(spec.repository.url):
        return [], []
    volume: Volume = {
        "name": _GIT_SECRET_VOLUME,
        "secret": {"secretName": secret.name, "defaultMode": 0o400},
    }
    mount: VolumeMount = {"name": _GIT_SECRET_VOLUME, "mountPath": GIT_SECRET_DIR, "readOnly": True}
    return [volume], [mount]


def scratch_volumes(settings: PodSettings) -> list[Volume]:
    """The pod's own worktree volume, its writable home and /tmp, and the reference cache."""
    workspace: Volume
    if settings.worktree_storage_class is None:
        workspace = {"name": _WORKSPACE_VOLUME, "emptyDir": {"sizeLimit": settings.worktree_size}}
    else:
        workspace = {
            "name": _WORKSPACE_VOLUME,
            "ephemeral": {
                "volumeClaimTemplate": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "yokeflow"}},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": settings.worktree_storage_class,
                        "resources": {"requests": {"storage": settings.worktree_size}},
                    },
                }
            },
        }
    volumes: list[Volume] = [
        workspace,
        {"name": _HOME_VOLUME, "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": _TMP_VOLUME, "emptyDir": {"sizeLimit": "1Gi"}},
    ]
    if settings.reference_cache_claim is not None:
        volumes.append(
            {
                "name": _CACHE_VOLUME,
                "persistentVolumeClaim": {
                    "claimName": settings.reference_cache_claim,
                    "readOnly": True,
                },
            }
        )
    return volumes


def scratch_mounts(settings: PodSettings) -> list[VolumeMount]:
    """Mounts of :func:`scratch_volumes` (the cache read-only)."""
    mounts: list[VolumeMount] = [
        {"name": _WORKSPACE_VOLUME, "mountPath": WORKSPACE_DIR},
        {"name": _HOME_VOLUME, "mountPath": HOME_DIR},
        {"name": _TMP_VOLUME, "mountPath": "/tmp"},
    ]
    if settings.reference_cache_claim is not None:
        mounts.append({"name": _CACHE_VOLUME, "mountPath": REFERENCE_CACHE_DIR, "readOnly": True})
    return mounts


def api_key_env(spec: ProjectRunSpec, settings: PodSettings) -> list[EnvVar]:
    """``ANTHROPIC_API_KEY`` from the run's Secret key, else the operator's (env ``valueFrom``)."""
    ref = spec.agent.credentials_secret
    secret = (ref.name, ref.key) if ref is not None else settings.api_key_secret
    if secret is None:
        return []
    return [
        {
            "name": "ANTHROPIC_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": secret[0], "key": secret[1]}},
        }
    ]


# Positional parameters, never interpolation: a URL or branch name is never parsed by the shell.
CLONE_SCRIPT = """set -eu
url="$1"; commit="$2"; branch="$3"; reference="$4"
if [ -n "$reference" ] && [ -d "$reference" ]; then
  git clone --no-checkout --reference-if-able "$reference" -- "$url" "$REPO"
else
  git clone --no-checkout -- "$url" "$REPO"
fi
cd "$REPO"
git cat-file -e "$commit^{commit}" 2>/dev/null || git fetch --no-tags origin "$commit"
if git rev-parse --verify --quiet "refs/remotes/origin/$branch" >/dev/null; then
  # An earlier attempt's kept branch: continue from it, as a local retry does in its worktree.
  git checkout --quiet -B "$branch" "refs/remotes/origin/$branch"
else
  git checkout --quiet -B "$branch" "$commit"
fi
"""


def clone_container(
    spec: ProjectRunSpec, settings: PodSettings, image: str, commit: str, branch: str
) -> Container:
    """The init container: clone the run's repository into the worktree volume and check out
    ``branch`` at ``commit`` (through the reference cache when one is mounted) — or where the
    remote's ``branch`` is, when an earlier attempt left it there."""
    _, git_mounts = git_volumes(spec)
    reference = (
        f"{REFERENCE_CACHE_DIR}/{settings.reference_cache_path}"
        if settings.reference_cache_claim is not None
        else ""
    )
    return {
        "name": "clone",
        "image": image,
        "command": ["sh", "-c", CLONE_SCRIPT, "clone"],
        "args": [spec.repository.url, commit, branch, reference],
        "env": [*git_env(spec), {"name": "REPO", "value": REPO_DIR}],
        "volumeMounts": [*scratch_mounts(settings), *git_mounts],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
