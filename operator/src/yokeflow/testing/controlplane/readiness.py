"""What ``up`` waits for, and how: polling a condition while watching the started processes.

A wait fails fast, with the end of the culprit's log, as soon as any started process exits; it
fails with the end of the newest component's log when the condition is not met in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yokeflow.testing.controlplane.apiclient import ApiClient
from yokeflow.testing.controlplane.errors import StartupError
from yokeflow.testing.controlplane.processes import ProcessRecord, is_running

__all__ = ["Waiter", "api_ready", "api_returns_ok", "log_tail", "nodes_schedulable"]

Report = Callable[[str], None]
"""Receives one progress line (for a human)."""

_NOT_READY_TAINT = "node.kubernetes.io/not-ready"


class Waiter:
    """Waits for conditions during one ``up``, reporting the time since ``up`` began."""

    def __init__(
        self, records: Sequence[ProcessRecord], timeout_seconds: float, report: Report
    ) -> None:
        self._records = records
        self._timeout = timeout_seconds
        self._report = report
        self._began = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since this waiter was made (the start of ``up``)."""
        return time.monotonic() - self._began

    def until(self, what: str, condition: Callable[[], bool]) -> None:
        """Poll ``condition`` every 0.1 s until it holds; raise ``StartupError`` otherwise."""
        deadline = time.monotonic() + self._timeout
        while True:
            for record in self._records:
                if not is_running(record):
                    raise StartupError(
                        f"{record.name} exited while waiting for {what}; "
                        f"its log {record.log} ends with:\n{log_tail(record.log)}"
                    )
            if condition():
                self._report(f"{what}: ok after {self.elapsed:.1f}s")
                return
            if time.monotonic() > deadline:
                newest = self._records[-1]
                raise StartupError(
                    f"timed out after {self._timeout:.0f}s waiting for {what}; the log of "
                    f"{newest.name} ({newest.log}) ends with:\n{log_tail(newest.log)}"
                )
            time.sleep(0.1)


def api_returns_ok(admin: ApiClient, path: str) -> bool:
    """``GET path`` answers 200 (an unreachable server is simply not ready)."""
    try:
        return admin.request("GET", path).status == 200
    except OSError:
        return False


def api_ready(admin: ApiClient) -> bool:
    """The API server's ``/readyz`` passes."""
    return api_returns_ok(admin, "/readyz")


def nodes_schedulable(admin: ApiClient, names: Sequence[str]) -> bool:
    """All named nodes are Ready and the API server's not-ready taint is gone from them."""
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
            taint.get("key") == _NOT_READY_TAINT for taint in node.get("spec", {}).get("taints", [])
        )
    }
    return set(names) <= schedulable


def log_tail(path: str, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(cannot read it: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _condition(node: dict[str, Any], kind: str) -> str | None:
    for condition in node.get("status", {}).get("conditions", []):
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None
