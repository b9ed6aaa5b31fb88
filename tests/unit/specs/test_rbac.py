"""yokeflow.specs.rbac: least privilege, written once."""

from __future__ import annotations

import yaml

from yokeflow.specs.rbac import RULES, cluster_role, rbac_markdown, rbac_yaml


def _verbs(resource: str) -> set[str]:
    return {
        verb
        for group in RULES
        for rule in group.rules
        if resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_yaml_holds_the_same_rules_as_the_cluster_role() -> None:
    documents = list(yaml.safe_load_all(rbac_yaml()))

    assert [d["kind"] for d in documents] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
    assert documents[1]["rules"] == cluster_role()["rules"]
    assert documents[2]["subjects"][0]["name"] == documents[0]["metadata"]["name"]


def test_secrets_can_be_neither_listed_nor_watched_and_pods_only_read() -> None:
    assert _verbs("secrets") == {"get", "create", "delete"}
    assert _verbs("pods") == {"get", "list", "watch"}
    # Jobs are patched only to mark one collected (an annotation: each end is reported once,
    # across restarts); their spec never is, so a Kueue-suspended Job is never un-suspended.
    assert _verbs("jobs") == {"get", "list", "watch", "create", "patch", "delete"}
    # each run's NetworkPolicy is created by the operator (AlreadyExists on a restart)
    assert {"get", "create"} <= _verbs("networkpolicies")


def test_no_wildcards_and_every_group_says_why() -> None:
    for group in RULES:
        assert len(group.why) > 20
        for rule in group.rules:
            assert "*" not in rule["verbs"]
            assert "*" not in rule["resources"]


def test_the_markdown_lists_every_rule() -> None:
    text = rbac_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) - 1 == sum(len(group.rules) for group in RULES)
