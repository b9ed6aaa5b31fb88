"""Running the built ``helm`` against a control plane, for tests: an isolated home (no
repositories, no cache shared with the user) and the control plane's kubeconfig."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Helm", "HelmError"]


class HelmError(AssertionError):
    """``helm`` exited non-zero; the message holds the command and its stderr."""

    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"helm {' '.join(args)} exited {returncode}: {stderr.strip()}")


@dataclass(frozen=True)
class Helm:
    """The built helm bound to one kubeconfig, its state kept under ``home``."""

    binary: Path
    kubeconfig: Path
    home: Path
    timeout_seconds: float = 180.0

    def _env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KUBECONFIG": str(self.kubeconfig),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }

    def attempt(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``helm ARGS`` and return the whole result, whatever the exit code."""
        return subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            env=self._env(),
            timeout=self.timeout_seconds,
            check=False,
        )

    def run(self, *args: str) -> str:
        """Run ``helm ARGS`` and return stdout; raise :class:`HelmError` when it fails."""
        done = self.attempt(*args)
        if done.returncode != 0:
            raise HelmError(args, done.returncode, done.stderr)
        return done.stdout
