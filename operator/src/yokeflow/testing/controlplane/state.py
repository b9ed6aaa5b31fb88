"""The state directory of one control plane: what is running, recorded on disk.

``state.json`` lists the processes (pid + start time), ports, the etcd data directory and the
admin kubeconfig, so that ``status`` and ``down`` work from any later process. A lock file
serializes ``up`` and ``down`` on one directory. Nothing here starts or stops a process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from yokeflow.testing.controlplane.components import Ports
from yokeflow.testing.controlplane.errors import ControlPlaneError
from yokeflow.testing.controlplane.processes import ProcessRecord

__all__ = ["RunState", "clear_state", "load_state", "locked", "save_state"]

_STATE_FILE = "state.json"
_LOCK_FILE = "lock"


@dataclass(frozen=True)
class RunState:
    """A started control plane, as recorded in its state directory."""

    state_dir: str
    bin_dir: str
    etcd_data_dir: str
    kubeconfig: str
    server: str
    ports: Ports
    processes: tuple[ProcessRecord, ...]
    started_at: float
    startup_seconds: float


def save_state(state: RunState) -> None:
    """Write ``state.json`` atomically."""
    path = Path(state.state_dir) / _STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def load_state(state_dir: Path) -> RunState | None:
    """The recorded state, or ``None`` when nothing was started here."""
    path = state_dir / _STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ControlPlaneError(f"{path} is not valid JSON ({exc}); remove it") from exc
    try:
        return RunState(
            state_dir=raw["state_dir"],
            bin_dir=raw["bin_dir"],
            etcd_data_dir=raw["etcd_data_dir"],
            kubeconfig=raw["kubeconfig"],
            server=raw["server"],
            ports=Ports(**raw["ports"]),
            processes=tuple(ProcessRecord(**record) for record in raw["processes"]),
            started_at=float(raw["started_at"]),
            startup_seconds=float(raw["startup_seconds"]),
        )
    except (KeyError, TypeError) as exc:
        raise ControlPlaneError(
            f"{path} was written by another version of this tool ({exc!r}); stop its processes "
            "by hand if any are left and remove the file"
        ) from exc


def clear_state(state_dir: Path) -> None:
    """Forget the recorded state (after everything was stopped)."""
    with contextlib.suppress(FileNotFoundError):
        (state_dir / _STATE_FILE).unlink()


@contextlib.contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Hold the state directory's lock; a second ``up``/``down`` waits for the first."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / _LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
