"""The operator as a process against the session's control plane, with the CRDs installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from yokeflow.testing.controlplane import Kubectl, RunningControlPlane

CRDS = Path(__file__).resolve().parents[3] / "crds"


@dataclass
class OperatorProcess:
    """The running ``yokeflow operator``: its process, log, liveness and metrics URLs."""

    process: subprocess.Popen[bytes]
    log: Path
    liveness_url: str
    metrics_url: str

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> None:
    """The generated CRDs, installed and established."""
    for path in sorted(CRDS.glob("*.yaml")):
        kubectl.run("apply", "--server-side", "-f", str(path))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture(scope="session")
def operator(
    control_plane: RunningControlPlane, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """``yokeflow operator`` serving every namespace, stopped at the end of the session."""
    folder = tmp_path_factory.mktemp("operator")
    log = folder / "operator.log"
    port, metrics_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    command = [
        str(Path(sys.executable).parent / "yokeflow"),
        "operator",
        f"--kubeconfig={control_plane.kubeconfig}",
        f"--liveness-port={port}",
        f"--metrics-port={metrics_port}",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
            start_new_session=True,
        )
    running = OperatorProcess(
        process,
        log,
        f"http://127.0.0.1:{port}/healthz",
        f"http://127.0.0.1:{metrics_port}/metrics",
    )
    try:
        _wait_live(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_live(running: OperatorProcess) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert running.alive(), f"the operator exited:\n{running.log_text()[-3000:]}"
        try:
            with urllib.request.urlopen(running.liveness_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the operator was not live in 60s:\n{running.log_text()[-3000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
