"""yokeflow.specs.network_policy: agent pods reach DNS, the model, MCP and git, nothing else."""

from __future__ import annotations

import pytest

from yokeflow.specs.names import Owner, common_labels
from yokeflow.specs.network_policy import (
    EgressTarget,
    build_agent_network_policy,
    egress_target,
    url_port,
)

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


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("https://github.com/acme/app.git", 443),
        ("http://git.internal/app.git", 80),
        ("git://127.0.0.1:9418/app.git", 9418),
        ("git://git.internal/app.git", 9418),
        ("ssh://git@git.internal:2222/app.git", 2222),
        ("git@github.com:acme/app.git", 22),
        ("https://git.internal:8443/app.git", 8443),
        ("file:///srv/app.git", None),
        ("/srv/app.git", None),
        ("C:/srv/app.git", None),
    ],
)
def test_a_urls_port_is_its_own_or_its_schemes(url: str, port: int | None) -> None:
    assert url_port(url) == port


def test_an_egress_target_is_the_ip_in_the_url_else_the_settings_cidr_or_pods() -> None:
    assert egress_target("http://10.1.2.3:8090/mcp") == EgressTarget(
        ports=(8090,), cidr="10.1.2.3/32"
    )
    assert egress_target("http://[fd00::7]:8090") == EgressTarget(ports=(8090,), cidr="fd00::7/128")
    assert egress_target("https://api.anthropic.com", cidr="160.79.104.0/23") == EgressTarget(
        ports=(443,), cidr="160.79.104.0/23"
    )
    assert egress_target(
        "http://yf-operator.yokeflow.svc:8090",
        pod_labels={"app.kubernetes.io/component": "operator"},
        namespace="yokeflow",
    ) == EgressTarget(
        ports=(8090,),
        pod_labels={"app.kubernetes.io/component": "operator"},
        namespace_labels={"kubernetes.io/metadata.name": "yokeflow"},
    )
    assert egress_target("/srv/app.git") is None


def test_a_repository_on_a_local_path_gets_no_git_rule(run_owner: Owner) -> None:
    policy = build_agent_network_policy(
        run="todo", namespace="team-a", owner=run_owner, model=MODEL, mcp=MCP, git=None
    )
    assert len(policy["spec"]["egress"]) == 3


def test_the_policy_selects_the_pods_of_the_runs_jobs(run_owner: Owner) -> None:
    policy = build_agent_network_policy(
        run="todo", namespace="team-a", owner=run_owner, model=MODEL, mcp=MCP, git=GIT
    )
    selector = policy["spec"]["podSelector"]["matchLabels"]
    for component in ("agent", "merge", "planner"):
        labels = common_labels("todo", component)
        assert selector.items() <= labels.items(), component
