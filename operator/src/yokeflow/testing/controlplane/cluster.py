"""Bringing one local control plane up and down: the use cases behind the CLI and the fixture.

``up`` starts etcd, the API server, the controller manager, the scheduler and kwok on loopback,
registers fake nodes, waits until the API is ready, nodes are Ready and the ``default`` service
account exists, and records everything in the state directory. ``down`` stops every recorded
process group. Both hold the state directory's lock. A failed ``up`` stops what it started
before raising, so it never leaves processes behind either.
"""

from __future__ import annotations

import datetime
import functools
import shutil
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from yokeflow.testing.controlplane.apiclient import ApiClient, probe_http
from yokeflow.testing.controlplane.binaries import require_binaries
from yokeflow.testing.controlplane.components import (
    COMPONENTS,
    Layout,
    Ports,
    command_line,
)
from yokeflow.testing.controlplane.errors import AlreadyRunningError, StartupError
from yokeflow.testing.controlplane.kubeconfig import write_kubeconfig
from yokeflow.testing.controlplane.pki import CLIENT_IDENTITIES, Pki, pki_paths, write_pki
from yokeflow.testing.controlplane.processes import ProcessRecord, is_running, spawn, stop
from yokeflow.testing.controlplane.readiness import (
    Report,
    Waiter,
    api_ready,
    api_returns_ok,
    nodes_schedulable,
)
from yokeflow.testing.controlplane.simulation import fake_node, node_names, write_stages
from yokeflow.testing.controlplane.state import (
    RunState,
    clear_state,
    load_state,
    locked,
    save_state,
)

__all__ = ["ControlPlaneConfig", "ControlPlaneStatus", "UpResult", "down", "status", "up"]

_STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class ControlPlaneConfig:
    """How to run one control plane."""

    state_dir: Path
    """Holds state.json, certificates, kubeconfigs and logs; one control plane per directory."""
    bin_dir: Path
    """The built binaries (see ``binaries.resolve_bin_dir``)."""
    nodes: int = 3
    """How many fake kwok nodes to register."""
    die_with_parent: bool = False
    """Tie the processes' lives to the calling process (for test sessions)."""
    timeout_seconds: float = 120.0
    """How long each readiness wait may take before ``up`` gives up."""


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did: the running control plane, and whether it was already running."""

    state: RunState
    reused: bool


@dataclass(frozen=True)
class ControlPlaneStatus:
    """What ``status`` found: the recorded state (if any), which processes live, API readiness."""

    state: RunState | None
    alive: dict[str, bool]
    ready: bool

    @property
    def running(self) -> bool:
        """Everything recorded is alive and the API server is ready."""
        return self.state is not None and all(self.alive.values()) and self.ready


def up(config: ControlPlaneConfig, report: Report) -> UpResult:
    """Start a control plane in ``config.state_dir``, or reuse the healthy one running there."""
    state_dir = config.state_dir.expanduser().resolve()
    with locked(state_dir):
        existing = load_state(state_dir)
        if existing is not None:
            alive = {record.name: is_running(record) for record in existing.processes}
            if all(alive.values()) and _api_ready(existing):
                report(f"already running (pid {existing.processes[0].pid}...), reusing it")
                return UpResult(existing, reused=True)
            if any(alive.values()):
                described = ", ".join(f"{name} {_describe(alive.get(name))}" for name in COMPONENTS)
                raise AlreadyRunningError(
                    f"a control plane in {state_dir} is only partly running or not ready "
                    f"({described}); run `python -m yokeflow.testing.controlplane down` first"
                )
            report("removing the state of a control plane that is no longer running")
            _forget(existing)
        return UpResult(_start(config, state_dir, report), reused=False)


def down(state_dir: Path, report: Report) -> list[str]:
    """Stop every process recorded in ``state_dir``; returns the names of those that ran."""
    state_dir = state_dir.expanduser().resolve()
    with locked(state_dir):
        existing = load_state(state_dir)
        if existing is None:
            return []
        stopped = _stop_all(existing.processes, report)
        _forget(existing)
        return stopped


def status(state_dir: Path) -> ControlPlaneStatus:
    """Look at the control plane recorded in ``state_dir`` without changing anything."""
    existing = load_state(state_dir.expanduser().resolve())
    if existing is None:
        return ControlPlaneStatus(None, {}, ready=False)
    alive = {record.name: is_running(record) for record in existing.processes}
    return ControlPlaneStatus(existing, alive, ready=all(alive.values()) and _api_ready(existing))


def _start(config: ControlPlaneConfig, state_dir: Path, report: Report) -> RunState:
    binaries = require_binaries(config.bin_dir, (*COMPONENTS, "kubectl"))
    started_at = time.time()
    records: list[ProcessRecord] = []
    wait = Waiter(records, config.timeout_seconds, report)
    layout = Layout(state_dir, Path(tempfile.mkdtemp(prefix="yokeflow-etcd-")))
    for stale in (layout.pki_dir, layout.log_dir):
        shutil.rmtree(stale, ignore_errors=True)
    ports = _free_ports()
    pki = write_pki(layout.pki_dir, datetime.datetime.now(datetime.UTC))
    server = f"https://127.0.0.1:{ports.apiserver}"
    _write_kubeconfigs(layout, pki, server)
    write_stages(layout.kwok_config)
    # A minimal environment: HOME points into the state directory so that no user
    # configuration (~/.kwok, ~/.kube) leaks into the components.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(state_dir), "LANG": "C.UTF-8"}
    admin = ApiClient(ports.apiserver, str(pki.ca.cert), pki.clients["admin"])
    health = {
        "etcd": ("/health", f"http://127.0.0.1:{ports.etcd_client}/health"),
        "kube-controller-manager": (
            "/healthz",
            f"https://127.0.0.1:{ports.controller_manager}/healthz",
        ),
        "kube-scheduler": ("/healthz", f"https://127.0.0.1:{ports.scheduler}/healthz"),
        "kwok": ("/healthz", f"http://127.0.0.1:{ports.kwok}/healthz"),
    }

    def recorded(startup_seconds: float = 0.0) -> RunState:
        return RunState(
            state_dir=str(state_dir),
            bin_dir=str(binaries.directory),
            etcd_data_dir=str(layout.etcd_data_dir),
            kubeconfig=str(layout.admin_kubeconfig),
            server=server,
            ports=ports,
            processes=tuple(records),
            started_at=started_at,
            startup_seconds=startup_seconds,
        )

    try:
        for component in COMPONENTS:
            argv = command_line(component, binaries, layout, ports, pki)
            log = layout.log(component)
            records.append(spawn(component, argv, log, env, config.die_with_parent))
            # Recorded at once, so that `down` finds it even if this process is killed now.
            save_state(recorded())
            # etcd and the API server must be ready before their clients start; the clients
            # start together and are checked afterwards.
            if component == "etcd":
                wait.until("etcd /health", functools.partial(probe_http, health["etcd"][1]))
            elif component == "kube-apiserver":
                wait.until("kube-apiserver /readyz", functools.partial(api_ready, admin))
        for component in ("kube-controller-manager", "kube-scheduler", "kwok"):
            path, url = health[component]
            wait.until(f"{component} {path}", functools.partial(probe_http, url))
        names = node_names(config.nodes)
        for name in names:
            _create_node(admin, name)
        wait.until(
            f"{len(names)} kwok nodes Ready and untainted",
            functools.partial(nodes_schedulable, admin, names),
        )
        wait.until(
            "service account default/default",
            functools.partial(
                api_returns_ok, admin, "/api/v1/namespaces/default/serviceaccounts/default"
            ),
        )
    except BaseException:
        _stop_all(records, report)
        _forget(recorded())
        raise
    state = recorded(startup_seconds=round(wait.elapsed, 2))
    save_state(state)
    report(f"control plane ready in {state.startup_seconds:.1f}s at {server}")
    return state


def _write_kubeconfigs(layout: Layout, pki: Pki, server: str) -> None:
    for identity in CLIENT_IDENTITIES:
        path = (
            layout.admin_kubeconfig
            if identity.name == "admin"
            else layout.kubeconfig(identity.name)
        )
        write_kubeconfig(path, server, pki.ca.cert, pki.clients[identity.name], identity.user)


def _api_ready(state: RunState) -> bool:
    pki = pki_paths(Path(state.state_dir) / "pki")
    try:
        admin = ApiClient(state.ports.apiserver, str(pki.ca.cert), pki.clients["admin"])
    except OSError:
        return False
    return api_ready(admin)


def _create_node(admin: ApiClient, name: str) -> None:
    response = admin.request("POST", "/api/v1/nodes", fake_node(name))
    if response.status not in (201, 409):
        raise StartupError(f"could not register fake node {name}: {response.body}")


def _stop_all(records: Sequence[ProcessRecord], report: Report) -> list[str]:
    stopped: list[str] = []
    for record in reversed(records):
        if stop(record, _STOP_GRACE_SECONDS):
            stopped.append(record.name)
            report(f"stopped {record.name} (pid {record.pid})")
    return stopped


def _forget(state: RunState) -> None:
    shutil.rmtree(state.etcd_data_dir, ignore_errors=True)
    clear_state(Path(state.state_dir))


def _describe(alive: bool | None) -> str:
    if alive is None:
        return "not started"
    return "running" if alive else "stopped"


def _free_ports() -> Ports:
    """Six distinct free loopback ports (held open together so they are distinct)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(6)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        numbers = [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    return Ports(*numbers)
