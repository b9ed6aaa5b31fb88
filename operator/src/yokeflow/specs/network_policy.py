"""The NetworkPolicy of a run's pods: no ingress; egress only to DNS, the model endpoint, the MCP
server and the git remote.

A NetworkPolicy matches addresses and pods, not host names, so the operator passes each
destination as an :class:`EgressTarget` (a CIDR, or pod and namespace labels, and a port) from its
settings. It selects every pod of the run (task, merge and planning Jobs alike), which all talk to
the same three places.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yokeflow.specs.names import (
    LABEL_NAME,
    LABEL_RUN,
    Owner,
    label_value,
    network_policy_name,
    owner_reference,
)
from yokeflow.specs.objects import NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer

__all__ = ["DNS", "EgressTarget", "build_agent_network_policy"]


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
    git: EgressTarget,
    dns: EgressTarget = DNS,
) -> NetworkPolicy:
    """The NetworkPolicy of ProjectRun ``owner``'s pods (owned by it, deleted with it)."""
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
            "egress": [_rule(dns), _rule(model), _rule(mcp), _rule(git)],
        },
    }
