"""The operator gives each run a NetworkPolicy, owned by the ProjectRun, that lets the run's pods
reach DNS, the model endpoint, the MCP task manager and the git remote, and nothing else; a
restarted operator writes its rules again; it goes with the run (the garbage collector follows
its owner reference).

The test control plane has no network plugin, so no NetworkPolicy is enforced here: what is
checked is the object the API server holds — its selector and its rules — not the traffic."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from yokeflow.specs.names import common_labels, network_policy_name
from yokeflow.testing.controlplane import Kubectl

from .conftest import OperatorProcess
from .test_invalid_manifests import valid_run

pytestmark = pytest.mark.controlplane


def _policy(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        found = kubectl.attempt("get", "networkpolicy", name, "-n", namespace, "-o", "json")
        if found.returncode == 0:
            return kubectl.get("networkpolicy", name, "-n", namespace)
        assert time.monotonic() < deadline, f"no NetworkPolicy {name} in 60s"
        time.sleep(0.3)


def test_a_run_gets_a_network_policy_that_goes_with_it(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    run = valid_run("fenced")
    run["spec"]["repository"]["url"] = "https://git.example.com/acme/app.git"
    run["spec"]["suspend"] = True  # no Job is needed to see the policy
    kubectl.apply(run, "-n", namespace)
    uid = kubectl.get("projectrun", "fenced", "-n", namespace)["metadata"]["uid"]

    policy = _policy(kubectl, namespace, network_policy_name("fenced"))

    (owner,) = policy["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("ProjectRun", "fenced", uid)
    spec = policy["spec"]
    selector = spec["podSelector"]["matchLabels"]
    for component in ("agent", "merge", "planner"):  # every pod of the run, none of another's
        assert selector.items() <= common_labels("fenced", component).items()
    assert not selector.items() <= common_labels("other", "agent").items()
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert spec.get("ingress", []) == []
    dns, model, mcp, git = spec["egress"]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    # the model endpoint (Anthropic's: a host name, so the operator's CIDR setting) on 443
    assert model == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [_tcp(443)]}
    # the MCP task manager the operator serves (an IP address in its URL: exactly that address)
    mcp_port = urlsplit(operator.env["YOKEFLOW_OPERATOR_MCP_URL"]).port
    assert mcp == {"to": [{"ipBlock": {"cidr": "127.0.0.1/32"}}], "ports": [_tcp(mcp_port)]}
    # the run's git remote on its URL's port
    assert git == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [_tcp(443)]}

    # an operator started again writes the rules of now over an edited (or stale) policy
    name = policy["metadata"]["name"]
    kubectl.run("patch", "networkpolicy", name, "-n", namespace, "--type=merge",
                "-p", '{"spec": {"egress": []}}')  # fmt: skip
    operator.kill()
    operator.restart()
    deadline = time.monotonic() + 60
    while len(kubectl.get("networkpolicy", name, "-n", namespace)["spec"].get("egress", [])) != 4:
        assert time.monotonic() < deadline, "the operator did not restore the policy's rules"
        time.sleep(0.3)

    kubectl.run("delete", "projectrun", "fenced", "-n", namespace, "--timeout=60s")
    deadline = time.monotonic() + 60
    while (
        kubectl.attempt(
            "get", "networkpolicy", policy["metadata"]["name"], "-n", namespace
        ).returncode
        == 0
    ):
        assert time.monotonic() < deadline, "the NetworkPolicy outlived its run by 60s"
        time.sleep(0.3)


def _tcp(port: int | None) -> dict[str, Any]:
    return {"protocol": "TCP", "port": port}
