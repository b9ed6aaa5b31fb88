"""The operator as a process against the session's control plane, with the CRDs installed and
a PostgreSQL 15 database of its own (it migrates it), serving the MCP task manager on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from yokeflow.testing.controlplane import Kubectl, RunningControlPlane
from yokeflow.testing.postgres import PG15_URL_ENV, create_database, drop_database

CRDS = Path(__file__).resolve().parents[3] / "crds"


@dataclass
class OperatorProcess:
    """The running ``yokeflow operator``: its process, log, liveness and metrics URLs."""

    process: subprocess.Popen[bytes]
    log: Path
    liveness_url: str
    metrics_url: str
    command: list[str]
    env: dict[str, str]
    folder: Path
    database_url: str

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a node failure would (nothing is cleaned up)."""
        self.process.kill()
        self.process.wait()

    def restart(self, extra_env: Mapping[str, str] | None = None) -> None:
        """Start it again, with the same settings (the same owner, the same database) and
        ``extra_env`` for this start only."""
        assert not self.alive()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env={**self.env, **(extra_env or {})},
                start_new_session=True,
            )
        _wait_live(self)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @contextlib.contextmanager
    def reconfigured(self, extra_env: Mapping[str, str]) -> Iterator[None]:
        """The operator restarted with ``extra_env`` for the block, then as it was."""
        self.stop()
        try:
            self.restart(extra_env)
            yield
        finally:
            if self.alive():
                self.stop()
            self.restart()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> None:
    """The generated CRDs, installed and established."""
    for path in sorted(CRDS.glob("*.yaml")):
        kubectl.run("apply", "--server-side", "-f", str(path))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture(scope="session")
def operator_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL 15 test server for the session's operator."""
    admin = os.environ.get(PG15_URL_ENV)
    if not admin:
        pytest.fail(
            f"{PG15_URL_ENV} is not set: source .test-services.env (scripts/test-services.sh)"
        )
    name = f"yf_operator_{os.getpid()}"
    asyncio.run(drop_database(admin, name))
    url = asyncio.run(create_database(admin, name))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin, name))


@pytest.fixture(scope="session")
def operator(
    control_plane: RunningControlPlane,
    crds: None,
    operator_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    """``yokeflow operator`` serving every namespace, stopped at the end of the session."""
    folder = tmp_path_factory.mktemp("operator")
    log = folder / "operator.log"
    port, metrics_port, mcp_port = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    env.update(
        YOKEFLOW_DATABASE_URL=operator_database,
        YOKEFLOW_DATABASE_POOL_MAX_SIZE="6",
        YOKEFLOW_OPERATOR_MCP_PORT=str(mcp_port),
        YOKEFLOW_OPERATOR_MCP_URL=f"http://127.0.0.1:{mcp_port}",
        YOKEFLOW_OPERATOR_MCP_SIGNING_KEY="e2e-operator-signing-key",
        YOKEFLOW_OPERATOR_RESYNC_SECONDS="3",
    )
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
        command,
        env,
        folder,
        operator_database,
    )
    try:
        _wait_live(running)
        yield running
    finally:
        running.stop()


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
