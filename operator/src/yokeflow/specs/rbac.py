"""The operator's permissions, written once: least privilege, grouped, each group saying why.

``yokeflow generate`` renders :data:`RULES` into ``deploy/rbac/operator.yaml`` (ServiceAccount,
ClusterRole, ClusterRoleBinding) and the table in ``docs/rbac.md``; the chart and the docs reuse
them. Agent pods get no service-account token at all, so they need no rules.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from yokeflow.api.v1alpha1 import GROUP
from yokeflow.specs.objects import PolicyRule

__all__ = [
    "OPERATOR_NAME",
    "RULES",
    "RuleGroup",
    "cluster_role",
    "rbac_markdown",
    "rbac_yaml",
    "rule_lines",
]

OPERATOR_NAME = "yokeflow-operator"
"""The name of the operator's ServiceAccount, ClusterRole and ClusterRoleBinding."""
_READ = ["get", "list", "watch"]


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """Rules for one purpose, with the reason a reviewer reads."""

    why: str
    rules: tuple[PolicyRule, ...]


RULES: tuple[RuleGroup, ...] = (
    RuleGroup(
        "Our custom resources: watch ProjectRuns and TaskBatches, create and delete TaskBatches, "
        "keep progress in annotations and add or remove finalizers.",
        (
            {
                "apiGroups": [GROUP],
                "resources": ["projectruns", "taskbatches"],
                "verbs": [*_READ, "create", "patch", "update", "delete"],
            },
        ),
    ),
    RuleGroup(
        "Their status subresource: phase, counts, cost and conditions are written only there.",
        (
            {
                "apiGroups": [GROUP],
                "resources": ["projectruns/status", "taskbatches/status"],
                "verbs": ["get", "patch", "update"],
            },
        ),
    ),
    RuleGroup(
        "Owner references with blockOwnerDeletion need update on the owner's finalizers.",
        (
            {
                "apiGroups": [GROUP],
                "resources": ["projectruns/finalizers", "taskbatches/finalizers"],
                "verbs": ["update"],
            },
        ),
    ),
    RuleGroup(
        "Task, merge and planning Jobs: created, observed, deleted to cancel, annotated once "
        "collected. Their spec is never patched: a Job Kueue keeps suspended is never "
        "un-suspended by the operator.",
        (
            {
                "apiGroups": ["batch"],
                "resources": ["jobs"],
                "verbs": [*_READ, "create", "patch", "delete"],
            },
        ),
    ),
    RuleGroup(
        "Pods of those Jobs are only read: their phase, exit codes and termination messages tell "
        "what happened even when a report was lost.",
        ({"apiGroups": [""], "resources": ["pods"], "verbs": _READ},),
    ),
    RuleGroup(
        "Per-attempt Secrets holding the MCP configuration (a scoped, expiring token); get also "
        "checks that the Secrets a ProjectRun names exist. No list or watch: the operator cannot "
        "enumerate the cluster's Secrets.",
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "delete"]},),
    ),
    RuleGroup(
        "A specification held in a ConfigMap is read (and checked to exist).",
        ({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},),
    ),
    RuleGroup(
        "The NetworkPolicy that limits each run's pods' egress.",
        (
            {
                "apiGroups": ["networking.k8s.io"],
                "resources": ["networkpolicies"],
                "verbs": ["get", "create", "patch", "delete"],
            },
        ),
    ),
    RuleGroup(
        "kopf's own observation: which CustomResourceDefinitions and namespaces exist (the "
        "resources and namespaces it serves, as they are added and removed). Read only.",
        (
            {
                "apiGroups": ["apiextensions.k8s.io"],
                "resources": ["customresourcedefinitions"],
                "verbs": ["list", "watch"],
            },
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
        ),
    ),
    RuleGroup(
        "Events on our resources: what happened, for `kubectl describe`.",
        (
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        ),
    ),
)
"""Every permission of the operator, grouped by purpose."""


def cluster_role() -> dict[str, object]:
    """The operator's ClusterRole as a manifest."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": OPERATOR_NAME, "labels": {"app.kubernetes.io/name": "yokeflow"}},
        "rules": [dict(rule) for group in RULES for rule in group.rules],
    }


def _flow(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def rule_lines() -> list[str]:
    """The ClusterRole's ``rules:`` entries as YAML lines (indented two spaces), each group
    under a comment saying why; the manifest and the Helm chart's template both use them."""
    lines: list[str] = []
    for group in RULES:
        lines += textwrap.wrap(group.why, width=98, initial_indent="  # ", subsequent_indent="  # ")
        for rule in group.rules:
            lines += [
                f"  - apiGroups: {_flow(rule['apiGroups'])}",
                f"    resources: {_flow(rule['resources'])}",
                f"    verbs: {_flow(rule['verbs'])}",
            ]
    return lines


def rbac_yaml(namespace: str = "yokeflow-system") -> str:
    """``deploy/rbac/operator.yaml``: the ServiceAccount, ClusterRole (commented) and binding."""
    lines = [
        "# Generated by `yokeflow generate` from yokeflow.specs.rbac; do not edit.",
        "# The operator's least-privilege RBAC. Agent pods mount no service-account token.",
        "apiVersion: v1",
        "kind: ServiceAccount",
        "metadata:",
        f"  name: {OPERATOR_NAME}",
        f"  namespace: {namespace}",
        "  labels:",
        "    app.kubernetes.io/name: yokeflow",
        "---",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRole",
        "metadata:",
        f"  name: {OPERATOR_NAME}",
        "  labels:",
        "    app.kubernetes.io/name: yokeflow",
        "rules:",
    ]
    lines += rule_lines()
    lines += [
        "---",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRoleBinding",
        "metadata:",
        f"  name: {OPERATOR_NAME}",
        "  labels:",
        "    app.kubernetes.io/name: yokeflow",
        "roleRef:",
        "  apiGroup: rbac.authorization.k8s.io",
        "  kind: ClusterRole",
        f"  name: {OPERATOR_NAME}",
        "subjects:",
        "  - kind: ServiceAccount",
        f"    name: {OPERATOR_NAME}",
        f"    namespace: {namespace}",
    ]
    return "\n".join(lines) + "\n"


def rbac_markdown() -> str:
    """``docs/rbac.md``: the same rules as a table, with their reasons."""
    lines = [
        "# The operator's permissions",
        "",
        "<!-- Generated by `yokeflow generate` from yokeflow.specs.rbac; do not edit. -->",
        "",
        "The operator runs as the ServiceAccount `yokeflow-operator`, bound to the ClusterRole of the",
        "same name (`deploy/rbac/operator.yaml`). These are all its rules; agent, merge and planning",
        "pods mount no service-account token and can do nothing through the Kubernetes API.",
        "",
        "| API group | Resources | Verbs | Why |",
        "| --- | --- | --- | --- |",
    ]
    for group in RULES:
        for rule in group.rules:
            api_groups = ", ".join(f"`{g}`" if g else "core" for g in rule["apiGroups"])
            resources = ", ".join(f"`{r}`" for r in rule["resources"])
            verbs = ", ".join(rule["verbs"])
            lines.append(f"| {api_groups} | {resources} | {verbs} | {group.why} |")
    return "\n".join(lines) + "\n"
