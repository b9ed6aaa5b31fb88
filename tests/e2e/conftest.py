"""End-to-end fixtures: the real control plane (see yokeflow.testing.controlplane)."""

from yokeflow.testing.controlplane.pytest_plugin import control_plane

__all__ = ["control_plane"]
