"""The pytest fixture ``control_plane``: one real control plane per test session.

Use it from a conftest with ``from yokeflow.testing.controlplane.pytest_plugin import
control_plane``. When the binaries are not built the fixture errors (it never skips): CI builds
them first with ``bash tests/controlplane/build.sh``. Progress goes to the
``yokeflow.testing.controlplane`` logger; component logs stay in the session's temporary state
directory (``control_plane.state_dir / "logs"``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from yokeflow.testing.controlplane.binaries import resolve_bin_dir
from yokeflow.testing.controlplane.cluster import ControlPlaneConfig
from yokeflow.testing.controlplane.session import RunningControlPlane, running_control_plane

__all__ = ["control_plane"]

_log = logging.getLogger("yokeflow.testing.controlplane")


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningControlPlane]:
    """A running control plane shared by the whole session, stopped at its end."""
    config = ControlPlaneConfig(
        state_dir=tmp_path_factory.mktemp("controlplane"),
        bin_dir=resolve_bin_dir(os.environ, (Path(__file__).resolve().parent, Path.cwd())),
        die_with_parent=True,
    )
    with running_control_plane(config, _log.info) as running:
        yield running
