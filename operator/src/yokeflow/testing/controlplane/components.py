"""The command lines of the control plane's components: pure data, no process is started here.

Everything listens on 127.0.0.1 only, on ports chosen at start. Order matters and is the order
of ``COMPONENTS``: etcd, then the API server, then its clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yokeflow.testing.controlplane.binaries import Binaries
from yokeflow.testing.controlplane.pki import Pki

__all__ = [
    "COMPONENTS",
    "CONTROLLERS",
    "FAKE_NODE_ANNOTATION",
    "Layout",
    "Ports",
    "command_line",
]

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
"""kwok manages exactly the nodes that carry this annotation."""

CONTROLLERS = (
    # Asked for by the operator's tests: Jobs run, owned objects are collected, namespaces
    # are emptied on delete, every namespace gets a default service account with tokens.
    "job-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    # Cheap, and what a Helm-installed chart, aggregated roles and projected service-account
    # volumes expect.
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "pod-garbage-collector-controller",
    "endpointslice-controller",
    "resourcequota-controller",
    # Lifts the node.kubernetes.io/not-ready taint the API server puts on every new node once
    # kwok reports it Ready (and taints it again if kwok stops renewing its lease).
    "node-lifecycle-controller",
)
"""Controllers the controller manager runs (no IPAM, volumes or certificates)."""

ADMISSION_PLUGINS = (
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "DefaultStorageClass",
    "DefaultTolerationSeconds",
    "NodeRestriction",
    "PodSecurity",
    "Priority",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
)
"""The usual (kubeadm-like) admission chain."""


@dataclass(frozen=True)
class Ports:
    """The loopback ports of one control plane."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int


@dataclass(frozen=True)
class Layout:
    """Where one control plane keeps its files."""

    state_dir: Path
    etcd_data_dir: Path

    @property
    def pki_dir(self) -> Path:
        """Certificates and keys."""
        return self.state_dir / "pki"

    @property
    def log_dir(self) -> Path:
        """One log file per component."""
        return self.state_dir / "logs"

    @property
    def admin_kubeconfig(self) -> Path:
        """The cluster-admin kubeconfig handed to users and tests."""
        return self.state_dir / "admin.kubeconfig"

    @property
    def kwok_config(self) -> Path:
        """kwok's Stages, copied from this package."""
        return self.state_dir / "kwok-stages.yaml"

    def kubeconfig(self, component: str) -> Path:
        """A component's own kubeconfig."""
        return self.state_dir / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        """A component's log file."""
        return self.log_dir / f"{component}.log"


def command_line(
    component: str, binaries: Binaries, layout: Layout, ports: Ports, pki: Pki
) -> list[str]:
    """The argv that starts ``component`` (one of ``COMPONENTS``)."""
    if component == "etcd":
        return _etcd(binaries, layout, ports)
    if component == "kube-apiserver":
        return _apiserver(binaries, ports, pki)
    if component == "kube-controller-manager":
        kubeconfig = str(layout.kubeconfig(component))
        return [
            str(binaries.path(component)),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--controllers={','.join(CONTROLLERS)}",
            # Each controller acts as its own service account, under RBAC, as kubeadm does.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.service_account.key}",
            f"--root-ca-file={pki.ca.cert}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.controller_manager}",
            f"--cert-dir={layout.pki_dir / component}",
            "--kube-api-qps=100",
            "--kube-api-burst=200",
            "--v=1",
        ]
    if component == "kube-scheduler":
        kubeconfig = str(layout.kubeconfig(component))
        return [
            str(binaries.path(component)),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.scheduler}",
            f"--cert-dir={layout.pki_dir / component}",
            "--v=1",
        ]
    if component == "kwok":
        key, value = FAKE_NODE_ANNOTATION
        return [
            str(binaries.path(component)),
            f"--kubeconfig={layout.kubeconfig(component)}",
            f"--config={layout.kwok_config}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={key}={value}",
            "--cidr=10.244.0.1/16",
            "--node-ip=10.243.0.1",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{ports.kwok}",
        ]
    raise ValueError(f"unknown component {component!r}")


def _etcd(binaries: Binaries, layout: Layout, ports: Ports) -> list[str]:
    client = f"http://127.0.0.1:{ports.etcd_client}"
    peer = f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        str(binaries.path("etcd")),
        "--name=yokeflow-test",
        f"--data-dir={layout.etcd_data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=yokeflow-test={peer}",
        "--initial-cluster-state=new",
        # A throw-away test store: durability is not worth the fsync latency.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def _apiserver(binaries: Binaries, ports: Ports, pki: Pki) -> list[str]:
    return [
        str(binaries.path("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        # The endpoint reconciler refuses a loopback address for the `kubernetes` Service's
        # endpoints; nothing runs in-cluster here, so those endpoints are not needed.
        "--endpoint-reconciler-type=none",
        f"--secure-port={ports.apiserver}",
        f"--tls-cert-file={pki.apiserver.cert}",
        f"--tls-private-key-file={pki.apiserver.key}",
        f"--client-ca-file={pki.ca.cert}",
        "--authorization-mode=Node,RBAC",
        # Front-proxy (aggregation) client CA, as kubeadm sets it; without it every component
        # that delegates authentication logs an error about a missing CA bundle.
        f"--requestheader-client-ca-file={pki.ca.cert}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.service_account.cert}",
        f"--service-account-signing-key-file={pki.service_account.key}",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
    ]
