"""What the run tests share: an inline plan of 3 epics / 8 tasks, a watcher of the namespace's
Jobs (every creation and end as the API reports it), waiting for a run's phase."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from yokeflow.testing.controlplane import Kubectl

EPICS = [
    {
        "key": "core",
        "name": "Core",
        "tasks": [
            {"key": "models", "title": "Write the models"},
            {"key": "store", "title": "Write the store", "dependsOn": ["models"]},
            {"key": "api", "title": "Write the API", "dependsOn": ["store"]},
        ],
    },
    {
        "key": "cli",
        "name": "Command line",
        "dependsOn": ["core"],
        "tasks": [
            {"key": "parse", "title": "Parse arguments"},
            {"key": "print", "title": "Print results", "dependsOn": ["parse"]},
        ],
    },
    {
        "key": "docs",
        "name": "Docs",
        "tasks": [
            {"key": "readme", "title": "Write the README"},
            {"key": "guide", "title": "Write the guide"},
            {"key": "faq", "title": "Write the FAQ", "dependsOn": ["readme"]},
        ],
    },
]
DEPENDS = {
    "models": set(),
    "store": {"models"},
    "api": {"store"},
    "parse": {"models", "store", "api"},
    "print": {"parse", "models", "store", "api"},
    "readme": set(),
    "guide": set(),
    "faq": {"readme"},
}
"""Each task's hard dependencies, epic dependencies spelled out."""


def project_run(name: str, url: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {
            "repository": {"url": url},
            "plan": {"name": "tool", "epics": EPICS},
            **spec,
        },
    }


@dataclass
class JobRecord:
    name: str
    component: str
    task: str | None
    merging: tuple[str, ...]
    created: int
    """Index of the watch event that first showed it."""
    ended: int | None = None
    succeeded: bool | None = None


@dataclass
class JobWatcher:
    """``kubectl get jobs --watch`` of one namespace, in a thread: every Job seen, in order."""

    kubectl: Kubectl
    namespace: str
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    creations: list[str] = field(default_factory=list)
    """Names of ADDED events (a Job created twice would show twice)."""
    peak_active_tasks: int = 0
    _events: int = 0
    _process: subprocess.Popen[str] | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> JobWatcher:
        command = [
            str(self.kubectl.binary),
            f"--kubeconfig={self.kubectl.kubeconfig}",
            "get",
            "jobs",
            "-n",
            self.namespace,
            "--watch",
            "--output-watch-events",
            "-o",
            "json",
        ]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        assert self._thread is not None
        self._process.terminate()
        self._process.wait(timeout=10)
        self._thread.join(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        decoder = json.JSONDecoder()
        buffer = ""
        for line in self._process.stdout:
            buffer += line
            while buffer.strip():
                try:
                    event, end = decoder.raw_decode(buffer.lstrip())
                except ValueError:
                    break
                buffer = buffer.lstrip()[end:]
                with self._lock:
                    self._see(event)

    def _see(self, event: dict[str, Any]) -> None:
        self._events += 1
        job = event.get("object", {})
        meta = job.get("metadata", {})
        name = meta.get("name", "")
        labels = meta.get("labels", {})
        annotations = meta.get("annotations", {})
        if event.get("type") == "ADDED":
            self.creations.append(name)
        if name not in self.jobs:
            merging = tuple(
                k for k, _, _ in json.loads(annotations.get("yokeflow.io/merge-tasks", "[]"))
            )
            self.jobs[name] = JobRecord(
                name,
                labels.get("app.kubernetes.io/component", ""),
                annotations.get("yokeflow.io/task-key"),
                merging,
                self._events,
            )
        record = self.jobs[name]
        conditions = {
            c["type"] for c in job.get("status", {}).get("conditions", []) if c["status"] == "True"
        }
        if record.ended is None and conditions & {
            "Complete",
            "Failed",
            "SuccessCriteriaMet",
            "FailureTarget",
        }:
            record.ended = self._events
            record.succeeded = bool(conditions & {"Complete", "SuccessCriteriaMet"})
        active = sum(1 for r in self.jobs.values() if r.component == "agent" and r.ended is None)
        self.peak_active_tasks = max(self.peak_active_tasks, active)

    def snapshot(self) -> tuple[dict[str, JobRecord], list[str], int]:
        with self._lock:
            return dict(self.jobs), list(self.creations), self.peak_active_tasks


def wait_for_phase(
    kubectl: Kubectl, namespace: str, name: str, phases: set[str], timeout: float = 240
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = kubectl.get("projectrun", name, "-n", namespace)
        if run.get("status", {}).get("phase") in phases:
            return dict(run)
        assert time.monotonic() < deadline, (
            f"{name} is not {phases} after {timeout:g}s: {json.dumps(run.get('status'), indent=1)}"
        )
        time.sleep(0.5)


def condition(run: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in run["status"]["conditions"] if c["type"] == kind)
