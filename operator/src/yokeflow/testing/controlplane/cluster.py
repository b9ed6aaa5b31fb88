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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from yokeflow.testing.controlplane.pki import CLIENT_IDENTITIES, KeyPair, Pki, write_pki
from yokeflow.testing.controlplane.processes import ProcessRecord, is_running, spawn, stop
from yokeflow.testing.controlplane.simulation import fake_node, node_names, write_stages
from yokeflow.testing.controlplane.state import (
    RunState,
    clear_state,
    load_state,
    locked,
    save_state,
)

__all__ = ["ControlPlaneConfig", "ControlPlaneStatus", "UpResult", "down", "status", "up"]

Report = Callable[[str], None]
"""Receives one progress line (for a human)."""

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
                described = ", ".join(
                    f"{name} {'running' if on else 'stopped'}" for name, on in alive.items()
                )
                raise AlreadyRunningError(
                    f"a control plane in {state_dir} is only partly running ({described}); "
                    "run `python -m yokeflow.testing.controlplane down` first"
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
    clock = time.monotonic()
    layout = Layout(state_dir, Path(tempfile.mkdtemp(prefix="yokeflow-etcd-")))
    for stale in (layout.pki_dir, layout.log_dir):
        shutil.rmtree(stale, ignore_errors=True)
    ports = _free_ports()
    pki = write_pki(layout.pki_dir, datetime.datetime.now(datetime.UTC))
    server = f"https://127.0.0.1:{ports.apiserver}"
    _write_kubeconfigs(layout, pki, server)
    write_stages(layout.kwok_config)
    # The components get a minimal environment: HOME points into the state directory so no
    # user configuration (~/.kwok, ~/.kube) leaks in.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(state_dir), "LANG": "C.UTF-8"}
    admin = ApiClient(ports.apiserver, str(pki.ca.cert), pki.clients["admin"])
    records: list[ProcessRecord] = []
    try:
        for component in COMPONENTS:
            argv = command_line(component, binaries, layout, ports, pki)
            records.append(
                spawn(component, argv, layout.log(component), env, config.die_with_parent)
            )
            if component == "etcd":
                _wait_for(
                    records,
                    "etcd /health",
                    config.timeout_seconds,
                    clock,
                    report,
                    lambda: probe_http(f"http://127.0.0.1:{ports.etcd_client}/health"),
                )
            elif component == "kube-apiserver":
                _wait_for(
                    records,
                    "kube-apiserver /readyz",
                    config.timeout_seconds,
                    clock,
                    report,
                    lambda: _readyz(admin),
                )
        for name, url in (
            ("kube-controller-manager", f"https://127.0.0.1:{ports.controller_manager}/healthz"),
            ("kube-scheduler", f"https://127.0.0.1:{ports.scheduler}/healthz"),
            ("kwok", f"http://127.0.0.1:{ports.kwok}/healthz"),
        ):
            _wait_for(
                records,
                f"{name} /healthz",
                config.timeout_seconds,
                clock,
                report,
                functools.partial(probe_http, url),
            )
        names = node_names(config.nodes)
        for name in names:
            _create_node(admin, name)
        _wait_for(
            records,
            f"{len(names)} kwok nodes Ready and untainted",
            config.timeout_seconds,
            clock,
            report,
            lambda: _nodes_ready(admin, names),
        )
        _wait_for(
            records,
            "service account default/default",
            config.timeout_seconds,
            clock,
            report,
            lambda: _ok(admin, "/api/v1/namespaces/default/serviceaccounts/default"),
        )
    except BaseException:
        _stop_all(records, report)
        shutil.rmtree(layout.etcd_data_dir, ignore_errors=True)
        raise
    state = RunState(
        state_dir=str(state_dir),
        bin_dir=str(binaries.directory),
        etcd_data_dir=str(layout.etcd_data_dir),
        kubeconfig=str(layout.admin_kubeconfig),
        server=server,
        ports=ports,
        processes=tuple(records),
        started_at=started_at,
        startup_seconds=round(time.monotonic() - clock, 2),
    )
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


def _wait_for(
    records: list[ProcessRecord],
    what: str,
    timeout: float,
    clock: float,
    report: Report,
    condition: Callable[[], bool],
) -> None:
    """Poll ``condition`` until true; fail fast when any started process has exited."""
    deadline = time.monotonic() + timeout
    while True:
        for record in records:
            if not is_running(record):
                raise StartupError(
                    f"{record.name} exited while waiting for {what}; "
                    f"its log {record.log} ends with:\n{_tail(record.log)}"
                )
        if condition():
            report(f"{what}: ok after {time.monotonic() - clock:.1f}s")
            return
        if time.monotonic() > deadline:
            last = records[-1]
            raise StartupError(
                f"timed out after {timeout:.0f}s waiting for {what}; "
                f"the log of {last.name} ({last.log}) ends with:\n{_tail(last.log)}"
            )
        time.sleep(0.1)


def _readyz(admin: ApiClient) -> bool:
    return _ok(admin, "/readyz")


def _ok(admin: ApiClient, path: str) -> bool:
    try:
        return admin.request("GET", path).status == 200
    except OSError:
        return False


def _api_ready(state: RunState) -> bool:
    pki_dir = Path(state.state_dir) / "pki"
    client = KeyPair(pki_dir / "client-admin.crt", pki_dir / "client-admin.key")
    try:
        admin = ApiClient(state.ports.apiserver, str(pki_dir / "ca.crt"), client)
    except OSError:
        return False
    return _readyz(admin)


def _create_node(admin: ApiClient, name: str) -> None:
    response = admin.request("POST", "/api/v1/nodes", fake_node(name))
    if response.status not in (201, 409):
        raise StartupError(f"could not register fake node {name}: {response.body}")


def _nodes_ready(admin: ApiClient, names: list[str]) -> bool:
    """All named nodes are Ready and schedulable (their not-ready taint lifted)."""
    try:
        response = admin.request("GET", "/api/v1/nodes")
    except OSError:
        return False
    if response.status != 200:
        return False
    schedulable = {
        node["metadata"]["name"]
        for node in response.body.get("items", [])
        if _condition(node, "Ready") == "True"
        and not any(
            taint.get("key") == "node.kubernetes.io/not-ready"
            for taint in node.get("spec", {}).get("taints", [])
        )
    }
    return set(names) <= schedulable


def _condition(node: dict[str, Any], kind: str) -> str | None:
    for condition in node.get("status", {}).get("conditions", []):
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


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


def _tail(path: str, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(cannot read it: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"
