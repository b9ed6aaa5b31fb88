"""Where the built control plane binaries live, and checking that they are all there.

The binaries are built by ``tests/controlplane/build.sh`` into
``${YOKEFLOW_TESTBIN_ROOT:-${XDG_CACHE_HOME:-~/.cache}/yokeflow/testbin}/<version key>/``, where
the key names every version pinned in ``tests/controlplane/versions.env``. This module computes
the same directory (reading the same file), so the two never disagree. ``YOKEFLOW_TESTBIN_DIR``
names the directory outright (for a checkout-less install). Nothing here builds anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from yokeflow.testing.controlplane.errors import BinariesMissingError

__all__ = [
    "BINARY_NAMES",
    "BUILD_COMMAND",
    "Binaries",
    "ToolVersions",
    "find_versions_file",
    "require_binaries",
    "resolve_bin_dir",
]

BINARY_NAMES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "helm",
)
"""Every binary ``build.sh`` produces; the control plane needs all but ``helm``."""

VERSIONS_FILE = Path("tests/controlplane/versions.env")
BUILD_COMMAND = "bash tests/controlplane/build.sh"


@dataclass(frozen=True)
class ToolVersions:
    """The versions pinned in ``versions.env``: one build of the control plane."""

    kubernetes: str
    etcd: str
    kwok: str
    helm: str

    @property
    def key(self) -> str:
        """The cache directory name; must match ``key=`` in ``build.sh``."""
        return f"k8s-{self.kubernetes}_etcd-{self.etcd}_kwok-{self.kwok}_helm-{self.helm}"

    @classmethod
    def read(cls, path: Path) -> ToolVersions:
        """Parse ``KEY=value`` lines (comments and blank lines ignored)."""
        values: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
        wanted = ("KUBERNETES_VERSION", "ETCD_VERSION", "KWOK_VERSION", "HELM_VERSION")
        missing = [name for name in wanted if not values.get(name)]
        if missing:
            raise BinariesMissingError(f"{path}: no value for {', '.join(missing)}")
        return cls(
            kubernetes=values["KUBERNETES_VERSION"],
            etcd=values["ETCD_VERSION"],
            kwok=values["KWOK_VERSION"],
            helm=values["HELM_VERSION"],
        )


@dataclass(frozen=True)
class Binaries:
    """Absolute paths of the built binaries, all known to exist."""

    directory: Path

    def path(self, name: str) -> Path:
        """The path of one binary of ``BINARY_NAMES``."""
        return self.directory / name


def find_versions_file(starts: Iterable[Path]) -> Path | None:
    """The first ``tests/controlplane/versions.env`` found walking up from any of ``starts``."""
    for start in starts:
        for directory in (start, *start.parents):
            candidate = directory / VERSIONS_FILE
            if candidate.is_file():
                return candidate
    return None


def resolve_bin_dir(env: Mapping[str, str], starts: Iterable[Path]) -> Path:
    """The directory that holds (or will hold) the binaries, as ``build.sh`` computes it.

    ``starts`` are where to look for the repository (this package's own location and the
    current directory, usually).
    """
    explicit = env.get("YOKEFLOW_TESTBIN_DIR")
    if explicit:
        return Path(explicit).expanduser()
    versions_file = find_versions_file(starts)
    if versions_file is None:
        raise BinariesMissingError(
            f"cannot find {VERSIONS_FILE} above this package or the current directory; run from "
            "a YokeFlow checkout or set YOKEFLOW_TESTBIN_DIR to the directory of the built binaries"
        )
    versions = ToolVersions.read(versions_file)
    root = env.get("YOKEFLOW_TESTBIN_ROOT")
    if root:
        base = Path(root).expanduser()
    else:
        cache = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME", "~"), ".cache")
        base = Path(cache).expanduser() / "yokeflow" / "testbin"
    return base / versions.key


def require_binaries(directory: Path, names: Iterable[str] = BINARY_NAMES) -> Binaries:
    """Check that every named binary is built in ``directory``, or say how to build them."""
    missing = [name for name in names if not os.access(directory / name, os.X_OK)]
    if missing:
        raise BinariesMissingError(
            f"control plane binaries not built in {directory}: {', '.join(missing)}; "
            f"build them with `{BUILD_COMMAND}` from the repository root "
            "(needs Go and the Go module proxy; about 20-40 minutes cold)"
        )
    return Binaries(directory.resolve())
