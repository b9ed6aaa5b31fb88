"""Running the built ``kubectl`` against a control plane, for tests and scripts.

Tests drive the cluster the way a user would, through the same ``kubectl`` release as the
server, never whichever client the machine happens to have.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yokeflow.testing.controlplane.errors import ControlPlaneError

__all__ = ["Kubectl", "KubectlError"]


class KubectlError(ControlPlaneError):
    """``kubectl`` exited non-zero; the message holds the command and its stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_run = tuple(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"kubectl {' '.join(args)} exited {returncode}: {stderr.strip()}")


@dataclass(frozen=True)
class Kubectl:
    """The built kubectl bound to one kubeconfig."""

    binary: Path
    kubeconfig: Path
    timeout_seconds: float = 60.0

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run ``kubectl ARGS`` and return stdout; raise ``KubectlError`` when it fails."""
        completed = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=self.timeout_seconds,
            check=False,
        )
        if check and completed.returncode != 0:
            raise KubectlError(args, completed.returncode, completed.stderr)
        return completed.stdout

    def attempt(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``kubectl ARGS`` and return the whole result, whatever the exit code."""
        return subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=self.timeout_seconds,
            check=False,
        )

    def apply(self, manifest: dict[str, Any] | str, *args: str) -> str:
        """``kubectl apply -f -`` with a manifest given as a dict (sent as JSON) or text."""
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.run("apply", "-f", "-", *args, stdin=text)

    def get(self, *args: str) -> Any:
        """``kubectl get ARGS -o json``, parsed."""
        return json.loads(self.run("get", *args, "-o", "json"))

    def drop_finalizers(self, resource: str, *scope: str) -> int:
        """Remove every finalizer from the objects of ``resource`` in ``scope`` (``-n NS`` or
        ``-A``) and return how many held one — what an administrator does once the controller
        that owned them is gone for good, so that they, their namespace and their CRD can be
        deleted. An object deleted meanwhile is skipped."""
        released = 0
        for item in self.get(resource, *scope).get("items", []):
            metadata = item["metadata"]
            if not metadata.get("finalizers"):
                continue
            where = ("-n", metadata["namespace"]) if metadata.get("namespace") else ()
            patch = '{"metadata":{"finalizers":null}}'
            result = self.attempt(
                "patch", resource, metadata["name"], *where, "--type=merge", "-p", patch
            )
            if result.returncode != 0 and "NotFound" not in result.stderr:
                raise KubectlError(
                    ("patch", resource, metadata["name"]), result.returncode, result.stderr
                )
            released += result.returncode == 0
        return released
