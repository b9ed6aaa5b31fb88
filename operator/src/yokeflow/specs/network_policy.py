"""The NetworkPolicy of a run's pods: no ingress; egress only to DNS, the model endpoint, the MCP
server and the git remote.

A NetworkPolicy matches addresses and pods, not host names, so the operator passes each
destination as an :class:`EgressTarget` (a CIDR, or pod and namespace labels, and a port):
:func:`egress_target` makes one from the destination's URL (its port, or its scheme's; its
address when the host is an IP address) and the operator's settings (the CIDR or the pods to
allow when the host is a name). It selects every pod of the run (task, merge and planning Jobs
alike), which all talk to the same three places. A repository on a local path needs no git rule.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from yokeflow.specs.names import (
    LABEL_NAME,
    LABEL_RUN,
    Owner,
    label_value,
    network_policy_name,
    owner_reference,
)
from yokeflow.specs.objects import NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer

__all__ = ["DNS", "EgressTarget", "build_agent_network_policy", "egress_target", "url_port"]


@dataclass(frozen=True, slots=True)
class EgressTarget:
    """One destination: ``cidr`` or ``pod_labels`` (with ``namespace_labels`` for another
    namespace; empty ``namespace_labels`` with pod labels means the run's namespace), and ports."""

    ports: tuple[int, ...]
    cidr: str | None = None
    pod_labels: dict[str, str] = field(default_factory=dict)
    namespace_labels: dict[str, str] | None = None
    protocols: tuple[str, ...] = ("TCP",)

    def __post_init__(self) -> None:
        if (self.cidr is None) == (not self.pod_labels and self.namespace_labels is None):
            raise ValueError("an egress target is either a CIDR or pod/namespace labels")
        if not self.ports:
            raise ValueError("an egress target needs at least one port")


DNS = EgressTarget(
    ports=(53,),
    pod_labels={"k8s-app": "kube-dns"},
    namespace_labels={"kubernetes.io/metadata.name": "kube-system"},
    protocols=("UDP", "TCP"),
)
"""The cluster's DNS (kube-dns / CoreDNS in kube-system), which every pod needs to resolve names."""


_SCHEME_PORTS = {"https": 443, "http": 80, "git": 9418, "ssh": 22}


def _split(url: str) -> tuple[str | None, int | None]:
    """The host and port a URL reaches (no host: a local path or ``file://``)."""
    if "://" not in url:
        # scp-like ``user@host:path`` is ssh; anything else is a local path
        head, colon, _ = url.partition(":")
        if colon and "/" not in head and len(head) > 1:
            return head.rpartition("@")[2], 22
        return None, None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file" or not parts.hostname:
        return None, None
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname, port or _SCHEME_PORTS.get(scheme.split("+")[-1], 443)


def url_port(url: str) -> int | None:
    """The TCP port ``url`` reaches: its own, else its scheme's (https 443, http 80, git 9418,
    ssh and scp-like ``user@host:path`` 22); None for a local path or ``file://``."""
    return _split(url)[1]


def egress_target(
    url: str,
    *,
    cidr: str = "0.0.0.0/0",
    pod_labels: dict[str, str] | None = None,
    namespace: str | None = None,
) -> EgressTarget | None:
    """Where ``url`` is, as a NetworkPolicy can say it: ``pod_labels`` (in ``namespace``; None:
    the run's) when given; else the host's own address when it is an IP address; else ``cidr``
    (a host name: the policy cannot name it). Always on the URL's port. None when the URL needs
    no network (a local path)."""
    host, port = _split(url)
    if host is None or port is None:
        return None
    if pod_labels:
        labels = None if namespace is None else {"kubernetes.io/metadata.name": namespace}
        return EgressTarget(ports=(port,), pod_labels=dict(pod_labels), namespace_labels=labels)
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return EgressTarget(ports=(port,), cidr=cidr)
    return EgressTarget(ports=(port,), cidr=f"{address}/{address.max_prefixlen}")


def _rule(target: EgressTarget) -> NetworkPolicyEgressRule:
    peer: NetworkPolicyPeer = {}
    if target.cidr is not None:
        peer["ipBlock"] = {"cidr": target.cidr}
    else:
        if target.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(target.pod_labels)}
        if target.namespace_labels is not None:
            peer["namespaceSelector"] = {"matchLabels": dict(target.namespace_labels)}
    return {
        "to": [peer],
        "ports": [
            {"protocol": "UDP" if protocol == "UDP" else "TCP", "port": port}
            for port in target.ports
            for protocol in target.protocols
        ],
    }


def build_agent_network_policy(
    *,
    run: str,
    namespace: str,
    owner: Owner,
    model: EgressTarget,
    mcp: EgressTarget,
    git: EgressTarget | None,
    dns: EgressTarget = DNS,
) -> NetworkPolicy:
    """The NetworkPolicy of ProjectRun ``owner``'s pods (owned by it, deleted with it); ``git``
    None: the repository needs no network."""
    targets = [dns, model, mcp] if git is None else [dns, model, mcp, git]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": network_policy_name(run),
            "namespace": namespace,
            "labels": {LABEL_NAME: "yokeflow", LABEL_RUN: label_value(run)},
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "podSelector": {"matchLabels": {LABEL_NAME: "yokeflow", LABEL_RUN: label_value(run)}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [_rule(target) for target in targets],
        },
    }
