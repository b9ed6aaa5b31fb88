"""yokeflow.specs.network_policy: agent pods reach DNS, the model, MCP and git, nothing else."""

from __future__ import annotations

import pytest

from yokeflow.specs.names import Owner
from yokeflow.specs.network_policy import EgressTarget, build_agent_network_policy

MODEL = EgressTarget(ports=(443,), cidr="203.0.113.0/24")
MCP = EgressTarget(ports=(8080,), pod_labels={"app": "mcp"}, namespace_labels={"ns": "yf"})
GIT = EgressTarget(ports=(9418, 443), pod_labels={"app": "git"})


def test_the_policy_selects_the_runs_pods_and_allows_exactly_four_destinations(
    run_owner: Owner,
) -> None:
    policy = build_agent_network_policy(
        run="todo", namespace="team-a", owner=run_owner, model=MODEL, mcp=MCP, git=GIT
    )

    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"]["yokeflow.io/project-run"] == "todo"
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == []
    dns, model, mcp, git = spec["egress"]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    assert model == {
        "to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }
    assert mcp["to"] == [
        {
            "podSelector": {"matchLabels": {"app": "mcp"}},
            "namespaceSelector": {"matchLabels": {"ns": "yf"}},
        }
    ]
    assert git["to"] == [{"podSelector": {"matchLabels": {"app": "git"}}}]
    assert [p["port"] for p in git["ports"]] == [9418, 443]
    assert policy["metadata"]["ownerReferences"][0]["uid"] == "uid-run"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ports": (443,)},
        {"ports": (443,), "cidr": "10.0.0.0/8", "pod_labels": {"a": "b"}},
        {"ports": (), "cidr": "10.0.0.0/8"},
    ],
)
def test_an_egress_target_is_a_cidr_or_labels_with_ports(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="egress target"):
        EgressTarget(**kwargs)  # type: ignore[arg-type]
