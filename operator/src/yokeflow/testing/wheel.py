"""The project's wheel, built from the repository and installed into a clean virtual
environment: what the images install, run here without a container engine.

``uv`` (a development dependency) builds the wheel (hatchling, as ``pyproject.toml`` pins it)
and installs it with its declared dependencies only, so a module or data file missing from the
wheel, or a dependency missing from ``pyproject.toml``, fails here. The pytest fixture
``installed_wheel`` does it once per session.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import yokeflow

__all__ = ["InstalledWheel", "install_wheel", "installed_wheel", "repository_root"]


@dataclass(frozen=True)
class InstalledWheel:
    """A built wheel and the clean virtual environment it is installed in."""

    wheel: Path
    venv: Path

    @property
    def bin_dir(self) -> Path:
        """The environment's ``bin`` folder (``yokeflow``, ``python``)."""
        return self.venv / "bin"

    @property
    def yokeflow(self) -> Path:
        """The ``yokeflow`` command the wheel installed."""
        return self.bin_dir / "yokeflow"


def repository_root() -> Path:
    """The repository this (editable) package was installed from."""
    root = Path(yokeflow.__file__).resolve().parents[3]
    if not (root / "pyproject.toml").is_file():
        raise RuntimeError(f"{root}: not the repository root (no pyproject.toml)")
    return root


def _uv(*args: str) -> None:
    uv = Path(sys.executable).parent / "uv"
    done = subprocess.run(
        [str(uv), *args], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"uv {' '.join(args)} exited {done.returncode}: {done.stderr}")


def install_wheel(root: Path, work: Path) -> InstalledWheel:
    """Build ``root``'s wheel into ``work/dist`` and install it into ``work/venv``."""
    dist = work / "dist"
    _uv("build", "--quiet", "--wheel", "--out-dir", str(dist), str(root))
    (wheel,) = dist.glob("yokeflow-*.whl")
    venv = work / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    # Byte-compiled at install, as the images are: every later start is quicker.
    _uv(
        "pip", "install", "--quiet", "--compile-bytecode",
        "--python", str(venv / "bin" / "python"), str(wheel),
    )  # fmt: skip
    return InstalledWheel(wheel, venv)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """The wheel of the repository under test, installed into a clean environment."""
    return install_wheel(repository_root(), tmp_path_factory.mktemp("wheel"))
