"""Fixtures of the chart's tests: the built helm, the chart and the CRDs of the projects whose
objects the chart makes (Prometheus Operator, Kueue), installed once into the session's
control plane."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yokeflow.testing.controlplane import RunningControlPlane
from yokeflow.testing.helm import Helm

__all__ = ["chart", "chart_with_stand_ins", "foreign_crds", "helm"]

_CHART = Path(__file__).resolve().parents[3] / "charts" / "yokeflow"
_STAND_IN_RULES = """groups:
  - name: stand-in
    rules:
      - alert: StandInAlert
        expr: vector(1) > 2
        annotations:
          summary: "{{ $labels.job }} is a stand-in"
"""
_STAND_IN_DASHBOARD = '{"title": "Stand In", "panels": [], "schemaVersion": 39}\n'


@pytest.fixture(scope="session")
def helm(control_plane: RunningControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """The control plane's helm with a home of its own."""
    return Helm(
        control_plane.bin_dir / "helm", control_plane.kubeconfig, tmp_path_factory.mktemp("helm")
    )


@pytest.fixture(scope="session")
def chart() -> Path:
    """The repository's chart, as it is."""
    return _CHART


@pytest.fixture(scope="session")
def chart_with_stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart whose rules/ and dashboards/ hold a file each when the repository's
    are still empty, so the PrometheusRule and dashboard templates always render something."""
    copy = tmp_path_factory.mktemp("chart") / "yokeflow"
    shutil.copytree(_CHART, copy)
    rules = copy / "rules" / "yokeflow.rules.yaml"
    if not rules.is_file():
        rules.parent.mkdir(exist_ok=True)
        rules.write_text(_STAND_IN_RULES)
    dashboards = copy / "dashboards"
    if not list(dashboards.glob("*.json")):
        dashboards.mkdir(exist_ok=True)
        (dashboards / "Stand In.json").write_text(_STAND_IN_DASHBOARD)
    return copy


@pytest.fixture(scope="session")
def foreign_crds(control_plane: RunningControlPlane) -> list[str]:
    """ServiceMonitor, PrometheusRule and LocalQueue CRDs (the real ones, from their projects'
    Go modules: tests/controlplane/build.sh), installed for the session."""
    folder = control_plane.bin_dir / "crds"
    files = sorted(folder.glob("*.yaml"))
    assert len(files) == 3, f"{folder}: expected 3 CRDs; run tests/controlplane/build.sh"
    names = []
    for path in files:
        control_plane.kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(path))
        group, plural = path.name.removesuffix(".yaml").split("_", 1)
        names.append(f"{plural}.{group}")
    for name in names:
        control_plane.kubectl.run(
            "wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s"
        )
    return names
