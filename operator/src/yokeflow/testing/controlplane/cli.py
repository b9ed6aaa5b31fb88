"""The command line: ``python -m yokeflow.testing.controlplane up|down|status|bin-dir``.

``up`` prints progress on stderr and the admin kubeconfig's path as the last line on stdout, so
``export KUBECONFIG=$(python -m yokeflow.testing.controlplane up)`` works. Errors are printed
as one message, never a traceback. Exit codes: 0 success; 1 error; ``status`` also returns 3
when nothing runs and 4 when a control plane is only partly alive.

Environment: ``YOKEFLOW_CONTROLPLANE_DIR`` (the state directory, default
``${XDG_STATE_HOME:-~/.local/state}/yokeflow/controlplane``), ``YOKEFLOW_TESTBIN_DIR`` /
``YOKEFLOW_TESTBIN_ROOT`` (where the binaries are, see ``binaries``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from yokeflow.testing.controlplane.binaries import BINARY_NAMES, require_binaries, resolve_bin_dir
from yokeflow.testing.controlplane.cluster import ControlPlaneConfig, down, status, up
from yokeflow.testing.controlplane.errors import ControlPlaneError

__all__ = ["default_state_dir", "main"]

_STATUS_STOPPED = 3
_STATUS_PARTIAL = 4


def default_state_dir(env: Mapping[str, str]) -> Path:
    """The state directory used when ``--state-dir`` is not given."""
    explicit = env.get("YOKEFLOW_CONTROLPLANE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME", "~"), ".local", "state")
    return Path(base).expanduser() / "yokeflow" / "controlplane"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command; returns the exit code."""
    env = os.environ if env is None else env
    args = _parser(env).parse_args(argv)
    # A terminated `up` must stop what it started, as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        return int(args.run(args, env))
    except ControlPlaneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; processes started by this command were stopped", file=sys.stderr)
        return 130


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m yokeflow.testing.controlplane",
        description="A real Kubernetes control plane on loopback for tests and local trials "
        "(etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok).",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(env),
        help="where state, certificates, kubeconfigs and logs live (default: %(default)s)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    start = commands.add_parser("up", help="start (or reuse) the control plane")
    start.add_argument("--nodes", type=int, default=3, help="fake kwok nodes (default: 3)")
    start.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per readiness wait (default: 120)"
    )
    start.set_defaults(run=_up)
    commands.add_parser("down", help="stop every process it started").set_defaults(run=_down)
    commands.add_parser("status", help="show what runs").set_defaults(run=_status)
    commands.add_parser(
        "bin-dir", help="print the directory of the built binaries (fails when incomplete)"
    ).set_defaults(run=_bin_dir)
    return parser


def _bin_dir_of(env: Mapping[str, str]) -> Path:
    return resolve_bin_dir(env, (Path(__file__).resolve().parent, Path.cwd()))


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _up(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.nodes < 1:
        raise ControlPlaneError("--nodes must be at least 1")
    config = ControlPlaneConfig(
        state_dir=args.state_dir,
        bin_dir=_bin_dir_of(env),
        nodes=args.nodes,
        timeout_seconds=args.timeout,
    )
    result = up(config, _report)
    print(result.state.kubeconfig, flush=True)
    return 0


def _down(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    stopped = down(args.state_dir, _report)
    print(f"stopped {len(stopped)} process(es)" if stopped else "nothing was running")
    return 0


def _status(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    found = status(args.state_dir)
    if found.state is None:
        print(f"not running (no state in {args.state_dir})")
        return _STATUS_STOPPED
    for record in found.state.processes:
        alive = "running" if found.alive[record.name] else "STOPPED"
        print(f"{record.name:<24} pid {record.pid:<8} {alive:<8} log {record.log}")
    print(
        f"api server               {found.state.server} {'ready' if found.ready else 'NOT READY'}"
    )
    print(f"kubeconfig               {found.state.kubeconfig}")
    if found.running:
        return 0
    return _STATUS_PARTIAL if any(found.alive.values()) else _STATUS_STOPPED


def _bin_dir(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    print(require_binaries(_bin_dir_of(env), BINARY_NAMES).directory)
    return 0
