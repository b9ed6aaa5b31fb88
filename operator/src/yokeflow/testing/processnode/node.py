"""The process node: a Node whose pods are real local processes (a test-only kubelet).

It registers a Node (tainted, so only pods that ask for it land here: see ``placement``), keeps
its Lease and Ready condition fresh, watches the pods bound to it and runs each one: volumes as
folders, init containers one after another, then the containers together, each as a process
group. Phase, container states, exit codes and termination messages are written to the pod's
status subresource as a kubelet writes them. A pod being deleted has its processes stopped
(SIGTERM, grace, SIGKILL) and is then removed with grace 0, as a kubelet confirms a deletion.

Pods of Jobs (``restartPolicy: Never``) run once. Pods of Deployments and StatefulSets
(``Always``, ``OnFailure``) are kept running: a container that ends is started again after a
back-off, ``httpGet`` readiness and liveness probes are run (``probes``), and the pod is Ready
when every container is. Images are not pulled: a container with no ``command`` runs its
image's entrypoint as ``NodeConfig.entrypoints`` maps it to a local command. A pod that mounts
its service account's token gets a real token of that account (TokenRequest, bound to the pod)
and ``KUBERNETES_SERVICE_HOST``/``PORT`` naming the API server, so in-cluster clients work
(``containers.BIND_MOUNTED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yokeflow.adapters.kube.client import JsonObject, KubeApi
from yokeflow.errors import KubeRejectedError, KubeUnavailableError
from yokeflow.testing.processnode.containers import ContainerEnd, run_container
from yokeflow.testing.processnode.environment import container_environment, pod_field
from yokeflow.testing.processnode.pod_status import PodStatusReport
from yokeflow.testing.processnode.probes import watch_probes
from yokeflow.testing.processnode.volumes import (
    PodSources,
    UnsupportedPodError,
    materialize_volumes,
    path_map_for,
)

__all__ = ["NODE_LABEL", "NODE_TAINT", "NodeConfig", "ProcessNode", "placement"]

_log = logging.getLogger("yokeflow.testing.processnode")

NODE_LABEL = ("yokeflow.io/process-node", "true")
"""Every process node carries this label; pods select it."""
NODE_TAINT = {"key": "yokeflow.io/process-node", "value": "true", "effect": "NoSchedule"}
"""Keeps pods that did not ask for a process node (kwok's, say) off it."""
_TERMINAL = ("Succeeded", "Failed")
_LEASE_SECONDS = 40


def placement() -> dict[str, Any]:
    """The pod spec fields that put a pod on a process node."""
    key, value = NODE_LABEL
    return {
        "nodeSelector": {key: value},
        "tolerations": [{**NODE_TAINT, "operator": "Equal"}],
    }


@dataclass(frozen=True)
class NodeConfig:
    """How to run one process node."""

    name: str
    root: Path
    """Pods' folders (volumes, logs, home) live under ``root/pods/<uid>``."""
    path: str = field(default_factory=lambda: os.environ.get("PATH", "/usr/bin:/bin"))
    """``PATH`` given to every container (the image is not pulled: this machine's tools run)."""
    heartbeat_seconds: float = 10.0
    watch_timeout_seconds: int = 50
    max_grace_seconds: float = 10.0
    entrypoints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Image repository (no tag) → the local command that stands in for its ``ENTRYPOINT``."""
    api_server: tuple[str, int] | None = None
    """The API server's host and port, given to containers as ``KUBERNETES_SERVICE_HOST`` and
    ``KUBERNETES_SERVICE_PORT`` (a kubelet gives the ``kubernetes`` Service's; there is no
    Service routing here)."""
    max_probe_period_seconds: float = 2.0
    """Probes run at least this often (their ``periodSeconds`` is capped), so tests wait less."""
    restart_backoff_seconds: float = 1.0
    """The first wait before a container that ended is started again; doubled up to 30 s."""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ProcessNode:
    """One registered node and the pods it runs (see the module docstring)."""

    def __init__(self, api: KubeApi, config: NodeConfig) -> None:
        self._api = api
        self._config = config
        self._pods: dict[str, asyncio.Task[None]] = {}
        self._stopping: dict[str, asyncio.Task[None]] = {}
        self._ip = "127.0.0.1"

    async def run(self) -> None:
        """Register, then heartbeat and run pods until cancelled (which stops every pod)."""
        await self.register()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._watch_pods()
        finally:
            heartbeat.cancel()
            running = [*self._pods.values(), *self._stopping.values()]
            for task in running:
                task.cancel()
            await asyncio.gather(heartbeat, *running, return_exceptions=True)

    async def register(self) -> None:
        """Create (or take over) the Node and its Lease, and report it Ready."""
        key, value = NODE_LABEL
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self._config.name,
                "labels": {
                    key: value,
                    "kubernetes.io/hostname": self._config.name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "process",
                },
            },
            "spec": {"taints": [NODE_TAINT]},
        }
        try:
            await self._api.create("/api/v1/nodes", node)
        except KubeRejectedError as exc:
            if exc.reason != "AlreadyExists":
                raise
        await self._renew_lease()
        await self._report_ready()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._config.heartbeat_seconds)
            try:
                await self._renew_lease()
                await self._report_ready()
            except (KubeUnavailableError, KubeRejectedError) as exc:
                _log.warning("heartbeat failed: %s", exc)

    async def _renew_lease(self) -> None:
        name = self._config.name
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        spec = {
            "holderIdentity": name,
            "leaseDurationSeconds": _LEASE_SECONDS,
            "renewTime": _micro_now(),
        }
        try:
            await self._api.patch(path, {"spec": spec})
        except KubeRejectedError as exc:
            if exc.reason != "NotFound":
                raise
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease"},
                "spec": spec,
            }
            with contextlib.suppress(KubeRejectedError):
                await self._api.create(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease
                )

    async def _report_ready(self) -> None:
        now = _now()
        # Generous, like kwok's nodes: requests are bookkeeping here; the machine is shared.
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        status = {
            "capacity": capacity,
            "allocatable": capacity,
            "addresses": [
                {"type": "InternalIP", "address": self._ip},
                {"type": "Hostname", "address": socket.gethostname()},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ProcessNodeReady",
                    "message": "the process node runs pods as local processes",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "process-node",
                "containerRuntimeVersion": "process://local",
                "kernelVersion": os.uname().release,
                "osImage": "local processes",
                "kubeProxyVersion": "",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        }
        await self._api.patch(f"/api/v1/nodes/{self._config.name}/status", {"status": status})

    async def _watch_pods(self) -> None:
        query = {"fieldSelector": f"spec.nodeName={self._config.name}"}
        version: str | None = None
        while True:
            try:
                if version is None:
                    listed = await self._api.get("/api/v1/pods", query)
                    version = listed["metadata"]["resourceVersion"]
                    for pod in listed.get("items", []):
                        self._observe(pod, first_sight=True)
                async for event in self._api.watch(
                    "/api/v1/pods",
                    resource_version=version,
                    timeout_seconds=self._config.watch_timeout_seconds,
                    query=query,
                ):
                    version = event.object.get("metadata", {}).get("resourceVersion", version)
                    if event.type == "DELETED":
                        self._forget(event.object)
                    elif event.type in ("ADDED", "MODIFIED"):
                        self._observe(event.object, first_sight=False)
            except KubeRejectedError as exc:
                _log.info("pod watch restarts from a fresh list: %s", exc)
                version = None
            except KubeUnavailableError as exc:
                _log.warning("pod watch interrupted: %s", exc)
                await asyncio.sleep(1.0)

    def _observe(self, pod: JsonObject, first_sight: bool) -> None:
        uid = pod["metadata"]["uid"]
        phase = pod.get("status", {}).get("phase", "Pending")
        if pod["metadata"].get("deletionTimestamp"):
            if uid not in self._stopping:
                self._stopping[uid] = asyncio.create_task(self._stop_pod(pod))
            return
        if uid in self._pods or phase in _TERMINAL:
            return
        if phase == "Running" and first_sight:
            # It ran under an earlier process node whose processes are gone.
            self._pods[uid] = asyncio.create_task(self._lost(pod))
            return
        self._pods[uid] = asyncio.create_task(self._run_pod(pod))

    def _forget(self, pod: JsonObject) -> None:
        uid = pod["metadata"]["uid"]
        task = self._pods.pop(uid, None)
        if task is not None and not task.done():
            task.cancel()
        self._stopping.pop(uid, None)

    async def _lost(self, pod: JsonObject) -> None:
        await self._write_status(
            pod,
            {
                "phase": "Failed",
                "reason": "NodeRestarted",
                "message": "the process node restarted while the pod ran",
            },
        )

    async def _stop_pod(self, pod: JsonObject) -> None:
        meta = pod["metadata"]
        task = self._pods.get(meta["uid"])
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
        try:
            await self._api.delete(path, body)
        except KubeRejectedError as exc:
            if exc.reason not in ("NotFound", "Conflict"):
                _log.warning("could not confirm the deletion of %s: %s", path, exc)
        except KubeUnavailableError as exc:
            _log.warning("could not confirm the deletion of %s: %s", path, exc)

    async def _fetch(self, namespace: str, resource: str, name: str) -> dict[str, Any] | None:
        try:
            return await self._api.get(f"/api/v1/namespaces/{namespace}/{resource}/{name}")
        except KubeRejectedError as exc:
            if exc.reason == "NotFound":
                return None
            raise

    async def _run_pod(self, pod: JsonObject) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        pod_dir = self._config.root / "pods" / meta["uid"]
        fetch = functools.partial(self._fetch, meta["namespace"])
        grace = min(
            float(spec.get("terminationGracePeriodSeconds", 30)), self._config.max_grace_seconds
        )
        started = _now()
        report = PodStatusReport(started, self._ip)
        try:
            sources = PodSources(
                token=functools.partial(self._token, pod),
                field=functools.partial(pod_field, pod, pod_ip=self._ip),
            )
            volumes = await materialize_volumes(
                spec.get("volumes", []), pod_dir / "volumes", fetch, sources
            )
            base = {
                "PATH": self._config.path,
                "HOME": str(pod_dir / "home"),
                "LANG": "C.UTF-8",
                "HOSTNAME": meta["name"],
            }
            if self._config.api_server is not None:
                host, port = self._config.api_server
                base.update(KUBERNETES_SERVICE_HOST=host, KUBERNETES_SERVICE_PORT=str(port))
            (pod_dir / "home").mkdir(parents=True, exist_ok=True)
            for init in spec.get("initContainers", []):
                report.running_init(init["name"], _now())
                await self._write_status(pod, report.status("Pending", spec))
                end = await self._run_one(pod, init, volumes, base, pod_dir, grace, fetch)
                report.terminated_init(init["name"], end)
                if end.exit_code != 0:
                    await self._write_status(pod, report.status("Failed", spec))
                    return
            if spec.get("restartPolicy", "Always") != "Never":
                run = functools.partial(self._run_one, pod, volumes=volumes, base=base,
                                        pod_dir=pod_dir, grace=grace, fetch=fetch)  # fmt: skip
                await asyncio.gather(
                    *(self._keep_running(pod, c, run, report) for c in spec["containers"])
                )
                return
            for container in spec["containers"]:
                report.running(container["name"], _now())
            await self._write_status(pod, report.status("Running", spec))
            ends = await asyncio.gather(
                *(
                    self._run_one(pod, container, volumes, base, pod_dir, grace, fetch)
                    for container in spec["containers"]
                )
            )
            for container, end in zip(spec["containers"], ends, strict=True):
                report.terminated(container["name"], end)
            phase = "Succeeded" if all(end.exit_code == 0 for end in ends) else "Failed"
            await self._write_status(pod, report.status(phase, spec))
        except UnsupportedPodError as exc:
            _log.warning("pod %s/%s cannot run: %s", meta["namespace"], meta["name"], exc)
            failed = report.status("Failed", spec)
            failed.update(reason="ProcessNodeError", message=str(exc))
            await self._write_status(pod, failed)
        except asyncio.CancelledError:
            # Deleted while running: the processes are gone; say so before the pod goes.
            stopped = report.status("Failed", spec, stopped_at=_now())
            with contextlib.suppress(KubeRejectedError, KubeUnavailableError):
                await self._write_status(pod, stopped)
            raise

    async def _keep_running(
        self,
        pod: JsonObject,
        container: Mapping[str, Any],
        run: Any,
        report: PodStatusReport,
    ) -> None:
        """Run one container of a long-lived pod until the pod goes: probe it, restart it when
        it ends (``OnFailure``: only when it failed), kill it when liveness fails."""
        name, spec = container["name"], pod["spec"]
        restarts, last, backoff = 0, None, self._config.restart_backoff_seconds
        while True:
            report.running(name, _now(), ready=False, restarts=restarts, last=last)
            await self._write_status(pod, report.status("Running", spec))
            process = asyncio.create_task(run(container=container))
            killed = False

            def kill(process: asyncio.Task[ContainerEnd] = process) -> None:
                nonlocal killed
                killed = True
                process.cancel()

            started = _now()

            async def readiness(
                ready: bool,
                started: str = started,
                restarts: int = restarts,
                last: ContainerEnd | None = last,
            ) -> None:
                report.running(name, started, ready=ready, restarts=restarts, last=last)
                await self._write_status(pod, report.status("Running", spec))

            probes = asyncio.create_task(
                watch_probes(container, self._ip, self._config.max_probe_period_seconds,
                             readiness, kill)
            )  # fmt: skip
            try:
                end = await process
            except asyncio.CancelledError:
                if not killed or _cancelling():
                    probes.cancel()
                    raise
                end = ContainerEnd(137, _now(), _now(), "killed: the liveness probe failed")
            finally:
                probes.cancel()
            last, restarts = end, restarts + 1
            if spec.get("restartPolicy") == "OnFailure" and end.exit_code == 0:
                report.terminated(name, end)
                await self._write_status(pod, report.status("Running", spec))
                return
            _log.info("container %s of %s ended (%d); restarting in %.0fs",
                      name, pod["metadata"]["name"], end.exit_code, backoff)  # fmt: skip
            report.waiting(name, "CrashLoopBackOff", restarts, last)
            await self._write_status(pod, report.status("Running", spec))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _token(self, pod: JsonObject, source: Mapping[str, Any]) -> str:
        """A token of the pod's service account, bound to the pod (the TokenRequest API)."""
        meta = pod["metadata"]
        account = pod["spec"].get("serviceAccountName") or "default"
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [source["audience"]] if source.get("audience") else [],
                "expirationSeconds": int(source.get("expirationSeconds", 3607)),
                "boundObjectRef": {
                    "apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"],
                },
            },
        }  # fmt: skip
        path = f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{account}/token"
        try:
            answer = await self._api.create(path, request)
        except KubeRejectedError as exc:
            raise UnsupportedPodError(f"no token for service account {account!r}: {exc}") from exc
        return str(answer["status"]["token"])

    async def _run_one(
        self,
        pod: JsonObject,
        container: Mapping[str, Any],
        volumes: Mapping[str, Path],
        base: Mapping[str, str],
        pod_dir: Path,
        grace: float,
        fetch: Any,
    ) -> ContainerEnd:
        name = container["name"]
        message_file = pod_dir / "termination" / name
        message_file.parent.mkdir(parents=True, exist_ok=True)
        message_file.unlink(missing_ok=True)
        extra = {container.get("terminationMessagePath", "/dev/termination-log"): message_file}
        paths = path_map_for(container, volumes, extra)
        env = {**base, **await container_environment(pod, container, fetch, self._ip)}
        return await run_container(
            container, env, paths, pod_dir, grace, _now, self._config.entrypoints
        )

    async def _write_status(self, pod: JsonObject, status: JsonObject) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        for attempt in range(5):
            try:
                await self._api.patch(path, {"status": status})
                return
            except KubeUnavailableError as exc:
                _log.warning("status of %s not written (attempt %d): %s", path, attempt + 1, exc)
                await asyncio.sleep(0.5 * (attempt + 1))
            except KubeRejectedError as exc:
                if exc.reason == "NotFound":
                    return
                raise


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
