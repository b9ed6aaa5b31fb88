"""The command line's lifecycle on a control plane of its own: ``up`` twice reuses, ``up`` on a
partly running one refuses, ``down`` leaves no process behind; and every binary reports the
version it was built as."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yokeflow.testing.controlplane import RunningControlPlane
from yokeflow.testing.controlplane.binaries import ToolVersions, find_versions_file

pytestmark = pytest.mark.controlplane


def cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "yokeflow.testing.controlplane",
            "--state-dir",
            str(state_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def recorded_pids(state_dir: Path) -> dict[str, int]:
    state = json.loads((state_dir / "state.json").read_text())
    return {record["name"]: record["pid"] for record in state["processes"]}


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if text in cmdline and stat[stat.rindex(")") + 2] != "Z":
                found.append(int(entry.name))
    return found


def test_up_twice_reuses_and_down_leaves_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "controlplane"
    try:
        first = cli(state_dir, "up")
        assert first.returncode == 0, first.stderr
        kubeconfig = first.stdout.strip().splitlines()[-1]
        assert Path(kubeconfig).is_file()
        pids = recorded_pids(state_dir)
        assert set(pids) == {
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
        }

        second = cli(state_dir, "up")
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip().splitlines()[-1] == kubeconfig
        assert "reusing" in second.stderr
        assert recorded_pids(state_dir) == pids

        assert cli(state_dir, "status").returncode == 0
    finally:
        stopped = cli(state_dir, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert processes_mentioning(str(state_dir)) == []
    assert cli(state_dir, "status").returncode == 3


def test_up_refuses_a_partly_running_control_plane(tmp_path: Path) -> None:
    state_dir = tmp_path / "controlplane"
    try:
        assert cli(state_dir, "up").returncode == 0
        kwok = recorded_pids(state_dir)["kwok"]
        os.kill(kwok, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while kwok in processes_mentioning(str(state_dir)):
            assert time.monotonic() < deadline
            time.sleep(0.1)

        refused = cli(state_dir, "up")
        assert refused.returncode == 1
        assert "only partly running or not ready" in refused.stderr
        assert "kwok stopped" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert cli(state_dir, "status").returncode == 4
    finally:
        stopped = cli(state_dir, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert processes_mentioning(str(state_dir)) == []


def test_binaries_report_the_versions_they_were_built_as(
    control_plane: RunningControlPlane,
) -> None:
    versions_file = find_versions_file([Path(__file__).resolve().parent])
    assert versions_file is not None
    versions = ToolVersions.read(versions_file)
    bin_dir = control_plane.bin_dir

    reported = json.loads(control_plane.kubectl.run("version", "-o", "json"))
    assert reported["serverVersion"]["gitVersion"] == versions.kubernetes
    assert reported["clientVersion"]["gitVersion"] == versions.kubernetes
    major, minor = versions.kubernetes.removeprefix("v").split(".")[:2]
    assert (reported["serverVersion"]["major"], reported["serverVersion"]["minor"]) == (
        major,
        minor,
    )
    for binary in ("kube-controller-manager", "kube-scheduler"):
        out = subprocess.run([str(bin_dir / binary), "--version"], capture_output=True, text=True)
        assert out.stdout.strip() == f"Kubernetes {versions.kubernetes}"

    etcd = subprocess.run([str(bin_dir / "etcd"), "--version"], capture_output=True, text=True)
    assert f"etcd Version: {versions.etcd.removeprefix('v')}" in etcd.stdout
    helm = subprocess.run(
        [str(bin_dir / "helm"), "version", "--short"], capture_output=True, text=True
    )
    assert helm.stdout.startswith(versions.helm)
    kwok = subprocess.run([str(bin_dir / "kwok"), "--version"], capture_output=True, text=True)
    assert versions.kwok.removeprefix("v") in kwok.stdout + kwok.stderr
