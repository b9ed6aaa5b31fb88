"""Running one container as a local process group, and what its end looks like to Kubernetes.

The image is not pulled: the command runs on this machine with the container's environment (plus
a ``PATH`` and a pod-private ``HOME``), its paths mapped to the pod's folders. Output goes to a
log file per container. Cancelling ``run_container`` stops the whole process group: SIGTERM, the
grace period, then SIGKILL — what a kubelet does when a pod is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yokeflow.testing.processnode.volumes import PathMap, UnsupportedPodError

__all__ = [
    "BIND_MOUNTED",
    "ContainerEnd",
    "image_repository",
    "run_container",
    "termination_message",
]

_MESSAGE_LIMIT = 4096
"""Kubernetes keeps at most 4 KiB of a termination message."""


@dataclass(frozen=True)
class ContainerEnd:
    """How a container process ended."""

    exit_code: int
    started_at: str
    finished_at: str
    message: str


BIND_MOUNTED = ("/var/run/secrets/kubernetes.io/serviceaccount",)
"""Mount paths that libraries read at a fixed place (the in-cluster client reads its token
there), which no rewriting of the command can reach: these are bind-mounted over the real path
in a mount namespace of the container's own (``unshare``; the node must run as root)."""


def image_repository(image: str) -> str:
    """``ghcr.io/x/y:1.0`` or ``ghcr.io/x/y@sha256:…`` → ``ghcr.io/x/y``."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


async def run_container(
    container: Mapping[str, Any],
    env: Mapping[str, str],
    paths: PathMap,
    pod_dir: Path,
    grace_seconds: float,
    now: Any,
    entrypoints: Mapping[str, Sequence[str]] | None = None,
) -> ContainerEnd:
    """Run the container's command to its end; cancelling it kills the process group.

    A container naming no ``command`` runs its image's entrypoint as ``entrypoints`` gives it
    (image repository → local command), with its ``args``, as a runtime runs an image's
    ``ENTRYPOINT``."""
    command = list(container.get("command") or [])
    if not command:
        command = list((entrypoints or {}).get(image_repository(container.get("image", "")), []))
    if not command:
        raise UnsupportedPodError(
            f"container {container['name']!r} names no command and its image"
            f" {container.get('image')!r} has no entrypoint on this node (the process node runs"
            " no images)"
        )
    argv = [paths.rewrite(part) for part in [*command, *container.get("args", [])]]
    binds = [(local, path) for path, local in paths.entries if path in BIND_MOUNTED]
    if binds:
        argv = _in_own_mount_namespace(container["name"], binds, argv)
    workdir, log_path = _prepare(container, paths, pod_dir)
    started_at = now()
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(workdir),
            env={key: paths.rewrite(value) for key, value in env.items()},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        exit_code = await process.wait()
    except asyncio.CancelledError:
        await _stop(process, grace_seconds)
        raise
    finally:
        # Whatever the container left running in its group goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    return ContainerEnd(
        exit_code=_exit_code(exit_code),
        started_at=started_at,
        finished_at=now(),
        message=termination_message(container, paths, log_path, exit_code),
    )


def _in_own_mount_namespace(name: str, binds: list[tuple[str, str]], argv: list[str]) -> list[str]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise UnsupportedPodError(
            f"container {name!r} mounts {', '.join(p for _, p in binds)}, which the process"
            " node bind-mounts in a mount namespace: run the node as root with unshare(1)"
        )
    pairs: list[str] = []
    for local, path in binds:
        Path(path).mkdir(parents=True, exist_ok=True)  # the mount point, empty on this machine
        pairs += [local, path]
    script = (
        'set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; shift 2; done; shift; exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
            *pairs, "--", *argv]  # fmt: skip


def _prepare(container: Mapping[str, Any], paths: PathMap, pod_dir: Path) -> tuple[Path, Path]:
    workdir = Path(paths.rewrite(container.get("workingDir") or str(pod_dir / "work")))
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = pod_dir / "logs" / f"{container['name']}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return workdir, log_path


def termination_message(
    container: Mapping[str, Any], paths: PathMap, log_path: Path, exit_code: int
) -> str:
    """The container's termination message file, or its log's tail when the policy asks and it
    failed without one."""
    message_path = Path(
        paths.rewrite(container.get("terminationMessagePath", "/dev/termination-log"))
    )
    message = ""
    with contextlib.suppress(OSError):
        message = message_path.read_text(encoding="utf-8", errors="replace")
    policy = container.get("terminationMessagePolicy", "File")
    if not message.strip() and exit_code != 0 and policy == "FallbackToLogsOnError":
        with contextlib.suppress(OSError):
            lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            message = "\n".join(lines[-80:])
    return message[-_MESSAGE_LIMIT:]


async def _stop(process: asyncio.subprocess.Process, grace_seconds: float) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(process.wait()), timeout=grace_seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


def _exit_code(returncode: int) -> int:
    # A process killed by signal N reports 128 + N, as a container runtime does.
    return 128 - returncode if returncode < 0 else returncode
