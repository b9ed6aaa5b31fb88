"""A pod's status as the process node reports it: phase, conditions, and each container's
state (waiting, running, terminated), restart count and last state — what a kubelet writes to
the pod's status subresource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yokeflow.adapters.kube.client import JsonObject
from yokeflow.testing.processnode.containers import ContainerEnd

__all__ = ["PodStatusReport"]


class PodStatusReport:
    """The container statuses of one pod as they change; ``status`` renders the pod status."""

    def __init__(self, started: str, ip: str) -> None:
        self._started = started
        self._ip = ip
        self._init: dict[str, JsonObject] = {}
        self._main: dict[str, JsonObject] = {}

    def running_init(self, name: str, at: str) -> None:
        self._init[name] = _container_status(name, {"running": {"startedAt": at}}, ready=False)

    def terminated_init(self, name: str, end: ContainerEnd) -> None:
        self._init[name] = _container_status(name, _terminated(end), ready=False)

    def running(
        self,
        name: str,
        at: str,
        ready: bool = True,
        restarts: int = 0,
        last: ContainerEnd | None = None,
    ) -> None:
        status = _container_status(name, {"running": {"startedAt": at}}, ready=ready)
        self._main[name] = _restarted(status, restarts, last)

    def waiting(self, name: str, reason: str, restarts: int, last: ContainerEnd | None) -> None:
        status = _container_status(name, {"waiting": {"reason": reason}}, ready=False)
        self._main[name] = _restarted(status, restarts, last)

    def terminated(self, name: str, end: ContainerEnd) -> None:
        self._main[name] = _container_status(name, _terminated(end), ready=False)

    def status(
        self, phase: str, spec: Mapping[str, Any], stopped_at: str | None = None
    ) -> JsonObject:
        main = dict(self._main)
        if stopped_at is not None:
            for name, current in main.items():
                if "running" in current["state"]:
                    started = current["state"]["running"]["startedAt"]
                    end = ContainerEnd(137, started, stopped_at, "stopped: the pod was deleted")
                    main[name] = _container_status(name, _terminated(end), ready=False)
        for container in spec.get("containers", []):
            main.setdefault(
                container["name"],
                _container_status(
                    container["name"], {"waiting": {"reason": "PodInitializing"}}, ready=False
                ),
            )
        running = phase == "Running" and all(s["ready"] for s in main.values())
        initialized = all("terminated" in s["state"] for s in self._init.values()) and (
            len(self._init) == len(spec.get("initContainers", []))
        )
        conditions = [
            _condition("PodScheduled", True, self._started),
            _condition("Initialized", initialized, self._started),
            _condition("ContainersReady", running, self._started),
            _condition("Ready", running, self._started),
        ]
        return {
            "phase": phase,
            "hostIP": self._ip,
            "podIP": self._ip,
            "podIPs": [{"ip": self._ip}],
            "startTime": self._started,
            "conditions": conditions,
            "initContainerStatuses": list(self._init.values()),
            "containerStatuses": list(main.values()),
        }


def _restarted(status: JsonObject, restarts: int, last: ContainerEnd | None) -> JsonObject:
    status["restartCount"] = restarts
    if last is not None:
        status["lastState"] = _terminated(last)
    return status


def _terminated(end: ContainerEnd) -> JsonObject:
    terminated: JsonObject = {
        "exitCode": end.exit_code,
        "reason": "Completed" if end.exit_code == 0 else "Error",
        "startedAt": end.started_at,
        "finishedAt": end.finished_at,
    }
    if end.message:
        terminated["message"] = end.message
    return {"terminated": terminated}


def _container_status(name: str, state: JsonObject, ready: bool) -> JsonObject:
    return {
        "name": name,
        "state": state,
        "ready": ready,
        "started": "running" in state,
        "restartCount": 0,
        "image": "process-node",
        "imageID": "",
    }


def _condition(kind: str, value: bool, at: str) -> JsonObject:
    return {"type": kind, "status": "True" if value else "False", "lastTransitionTime": at}
