"""The chart rendered by the built helm and checked by the real API server: `helm lint`,
`helm template` for the default and non-default values, each applied with
`kubectl apply --dry-run=server`; renders are byte-identical (ArgoCD renders offline); the
generated parts (CRDs, RBAC, settings file) are the ones the code produces."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from yokeflow.crdgen import crd_manifests
from yokeflow.settings import load_settings
from yokeflow.specs.rbac import cluster_role
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.helm import Helm

pytestmark = pytest.mark.controlplane

_MONITORING = ("--api-versions", "monitoring.coreos.com/v1")
_KUEUE = ("--api-versions", "kueue.x-k8s.io/v1beta1/LocalQueue")


def _render(helm: Helm, chart: Path, namespace: str, *args: str) -> str:
    return helm.run("template", "demo", str(chart), "-n", namespace, *args)


def _objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _kinds(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)


def _dry_run(kubectl: Kubectl, text: str, namespace: str) -> None:
    kubectl.run(
        "apply", "--dry-run=server", "--server-side", "-n", namespace, "-f", "-", stdin=text
    )


def test_helm_lint_passes_strict(helm: Helm, chart: Path, chart_with_stand_ins: Path) -> None:
    helm.run("lint", "--strict", str(chart))
    helm.run(
        "lint", "--strict", str(chart_with_stand_ins), *("--set", "kueue.createLocalQueue=false")
    )


def test_default_values_render_what_a_cluster_accepts(
    helm: Helm, chart: Path, kubectl: Kubectl, namespace: str
) -> None:
    text = _render(helm, chart, namespace)
    objects = _objects(text)
    dashboards = [
        f"ConfigMap/demo-yokeflow-dashboard-{path.stem}"
        for path in sorted((chart / "dashboards").glob("*.json"))
    ]
    assert _kinds(objects) == sorted(
        [
            *dashboards,
            "ClusterRole/" + f"{namespace}-demo-yokeflow-operator",
            "ClusterRoleBinding/" + f"{namespace}-demo-yokeflow-operator",
            "ConfigMap/demo-yokeflow-config",
            "CustomResourceDefinition/projectruns.yokeflow.io",
            "CustomResourceDefinition/taskbatches.yokeflow.io",
            "Deployment/demo-yokeflow-api",
            "Deployment/demo-yokeflow-operator",
            "NetworkPolicy/demo-yokeflow-api",
            "NetworkPolicy/demo-yokeflow-operator",
            "NetworkPolicy/demo-yokeflow-postgresql",
            "Service/demo-yokeflow-api",
            "Service/demo-yokeflow-operator",
            "Service/demo-yokeflow-postgresql",
            "ServiceAccount/demo-yokeflow-operator",
            "StatefulSet/demo-yokeflow-postgresql",
        ]
    )
    _dry_run(kubectl, text, namespace)
    by_kind = {o["kind"] + "/" + o["metadata"]["name"]: o for o in objects}

    operator = by_kind["Deployment/demo-yokeflow-operator"]["spec"]
    assert operator["replicas"] == 1
    assert operator["strategy"] == {"type": "Recreate"}
    pod = operator["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["ports"] == [
        {"name": "health", "containerPort": 8080},
        {"name": "metrics", "containerPort": 8081},
        {"name": "mcp", "containerPort": 8090},
    ]
    env_names = [e["name"] for e in container["env"]]
    assert "YOKEFLOW_OPERATOR_AGENT_IMAGE" in env_names
    assert {"name": "YOKEFLOW_OPERATOR_MCP_URL",
            "value": f"http://demo-yokeflow-operator.{namespace}.svc:8090"} in container["env"]  # fmt: skip
    assert container["resources"]["limits"]["memory"] == "512Mi"
    env = {e["name"]: e for e in container["env"]}
    # each run's NetworkPolicy lets agent pods reach the operator's own pods (its MCP server)
    mcp_pods = json.loads(env["YOKEFLOW_OPERATOR_EGRESS_MCP_POD_LABELS"]["value"])
    assert mcp_pods.items() <= pod_labels(operator).items()
    assert mcp_pods["app.kubernetes.io/component"] == "operator"
    assert env["YOKEFLOW_OPERATOR_EGRESS_MCP_NAMESPACE"]["value"] == namespace
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "demo-yokeflow-postgresql"
    assert "password" not in env["YOKEFLOW_DATABASE_URL"]["value"]

    # The generated parts are the code's: the RBAC rules, the CRDs (kept on uninstall).
    role = by_kind[f"ClusterRole/{namespace}-demo-yokeflow-operator"]
    assert role["rules"] == cluster_role()["rules"]
    binding = by_kind[f"ClusterRoleBinding/{namespace}-demo-yokeflow-operator"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "demo-yokeflow-operator", "namespace": namespace}
    ]
    for crd in crd_manifests():
        rendered = by_kind[f"CustomResourceDefinition/{crd['metadata']['name']}"]
        assert rendered["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        assert rendered["spec"] == crd["spec"]

    # Monitoring objects appear only where the Prometheus Operator's API is served.
    assert not any(o["kind"] in ("ServiceMonitor", "PrometheusRule") for o in objects)


def test_the_settings_file_is_one_yokeflow_reads(
    helm: Helm, chart: Path, namespace: str, tmp_path: Path
) -> None:
    text = _render(
        helm, chart, namespace,
        "--set", "config.parallel.max_concurrency=7",
        "--set-json", "config.cost.budget_limit_usd=12.5",
        "--set-json", 'config.cost.model_overrides={"testing":"haiku"}',
    )  # fmt: skip
    (config,) = [o for o in _objects(text) if o["metadata"]["name"] == "demo-yokeflow-config"]
    (tmp_path / ".yokeflow.yaml").write_text(config["data"][".yokeflow.yaml"])
    settings = load_settings(tmp_path, environ={})
    assert settings.parallel.max_concurrency == 7
    assert settings.cost.budget_limit_usd == 12.5
    assert settings.cost.model_overrides == {"testing": "haiku"}
    assert settings.operator.liveness_port == 8080
    assert settings.database.url is None  # it comes from a Secret, never the file


def test_external_database_and_monitoring(
    helm: Helm, chart_with_stand_ins: Path, kubectl: Kubectl, namespace: str,
    foreign_crds: list[str],
) -> None:  # fmt: skip
    args = (
        *_MONITORING,
        "--set", "database.existingSecret=external-db",
        "--set", "modelCredentials.existingSecret=anthropic",
        "--set", "monitoring.serviceMonitor.labels.release=kube-prometheus",
    )  # fmt: skip
    text = _render(helm, chart_with_stand_ins, namespace, *args)
    objects = _objects(text)
    kinds = _kinds(objects)
    assert "StatefulSet/demo-yokeflow-postgresql" not in kinds
    assert not any(k.startswith("NetworkPolicy/demo-yokeflow-postgresql") for k in kinds)
    assert "ServiceMonitor/demo-yokeflow-api" in kinds
    assert "ServiceMonitor/demo-yokeflow-operator" in kinds
    assert "PrometheusRule/demo-yokeflow" in kinds
    dashboards = [
        o for o in objects if o["kind"] == "ConfigMap" and "dashboard" in o["metadata"]["name"]
    ]
    assert dashboards
    for dashboard in dashboards:
        assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
        (content,) = dashboard["data"].values()
        assert content.startswith("{")
    _dry_run(kubectl, text, namespace)

    operator = next(
        o
        for o in objects
        if o["metadata"]["name"] == "demo-yokeflow-operator" and o["kind"] == "Deployment"
    )
    container = operator["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert "PGPASSWORD" not in env
    assert env["YOKEFLOW_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "external-db",
        "key": "url",
    }
    assert container["envFrom"] == [{"secretRef": {"name": "anthropic"}}]
    monitors = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceMonitor"}
    assert all(m["metadata"]["labels"]["release"] == "kube-prometheus" for m in monitors.values())
    assert monitors["demo-yokeflow-operator"]["spec"]["endpoints"][0]["port"] == "metrics"
    monitor = monitors["demo-yokeflow-api"]
    assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"] == {
        "name": "demo-yokeflow-api", "key": "token",
    }  # fmt: skip


def test_crds_off_kueue_on_and_values_that_create_secrets(
    helm: Helm, chart: Path, kubectl: Kubectl, namespace: str, foreign_crds: list[str]
) -> None:
    args = (
        *_KUEUE,
        "--set", "crds.install=false",
        "--set", "kueue.createLocalQueue=true",
        "--set", "api.auth.token=0123456789abcdef0123",
        "--set", "postgresql.auth.password=s3cret",
        "--set", "networkPolicy.enabled=false",
    )  # fmt: skip
    text = _render(helm, chart, namespace, *args)
    kinds = _kinds(_objects(text))
    assert not any(k.startswith("CustomResourceDefinition/") for k in kinds)
    assert not any(k.startswith("NetworkPolicy/") for k in kinds)
    assert "LocalQueue/yokeflow" in kinds
    assert "Secret/demo-yokeflow-api" in kinds
    assert "Secret/demo-yokeflow-postgresql" in kinds
    _dry_run(kubectl, text, namespace)


def test_kueue_without_kueue_is_refused_with_a_reason(
    helm: Helm, chart: Path, namespace: str
) -> None:
    done = helm.attempt(
        "template", "demo", str(chart), "-n", namespace, "--set", "kueue.createLocalQueue=true"
    )
    assert done.returncode != 0
    assert "does not serve kueue.x-k8s.io/v1beta1 LocalQueue; install Kueue first" in done.stderr


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("config.parallel.max_concurrency=0", "max_concurrency"),
        ("config.parallel.schedule=sideways", "schedule"),
        ("operator.replicas=2", "replicas"),
        ("config.database.url=postgresql://x", "url"),
        ("api.service.type=Headless", "type"),
    ],
)
def test_the_schema_refuses_bad_values(
    helm: Helm, chart: Path, namespace: str, setting: str, complaint: str
) -> None:
    done = helm.attempt("template", "demo", str(chart), "-n", namespace, "--set", setting)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert complaint in done.stderr


def test_renders_are_byte_identical(helm: Helm, chart_with_stand_ins: Path) -> None:
    args = (*_MONITORING, *_KUEUE, "--set", "kueue.createLocalQueue=true")
    first = _render(helm, chart_with_stand_ins, "yokeflow-system", *args)
    second = _render(helm, chart_with_stand_ins, "yokeflow-system", *args)
    assert first == second
    assert "Secret" not in {o["kind"] for o in _objects(first)}  # nothing invented


def test_templates_use_no_lookup_or_randomness(chart: Path) -> None:
    forbidden = re.compile(
        r"\b(lookup|randAlpha|randNumeric|randAscii|randAlphaNum|randInt|uuidv4|genPrivateKey"
        r"|genCA|genSelfSignedCert|genSignedCert|derivePassword|now|date)\b"
    )
    actions = 0
    for template in sorted((chart / "templates").rglob("*")):
        if template.is_file():
            for action in re.findall(r"\{\{(.*?)\}\}", template.read_text(), re.DOTALL):
                actions += 1
                if not action.lstrip("- ").startswith("/*"):
                    assert not forbidden.search(action), f"{template}: {{{{{action}}}}}"
    assert actions > 100


def test_the_readmes_helm_install_renders(helm: Helm, chart: Path, namespace: str) -> None:
    """The quick start's `helm install … --set …` names values the schema accepts."""
    readme = (chart.parents[1] / "README.md").read_text()
    command = re.search(r"^helm install (\S+) charts/yokeflow(.*?)(?<!\\)$", readme,
                        re.MULTILINE | re.DOTALL)  # fmt: skip
    assert command, "README.md shows no `helm install … charts/yokeflow`"
    sets = re.findall(r"--set (\S+)", command.group(2))
    assert sets
    args = [arg for value in sets for arg in ("--set", value)]
    objects = _objects(_render(helm, chart, namespace, *args))
    assert any(o["kind"] == "Deployment" for o in objects)


def test_the_argocd_application_renders_the_chart(helm: Helm, chart: Path, tmp_path: Path) -> None:
    """examples/argocd/yokeflow-chart.yaml names this chart; it renders as ArgoCD would."""
    application = yaml.safe_load(
        (chart.parents[1] / "examples" / "argocd" / "yokeflow-chart.yaml").read_text()
    )
    source, destination = application["spec"]["source"], application["spec"]["destination"]
    assert (chart.parents[1] / source["path"]).resolve() == chart.resolve()
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(source["helm"].get("valuesObject", {})))
    text = helm.run(
        "template", source["helm"]["releaseName"], str(chart),
        "-n", destination["namespace"], "-f", str(tmp_path / "values.yaml"),
    )  # fmt: skip
    names = {o["metadata"]["name"] for o in _objects(text)}
    assert "yokeflow-operator" in names
    assert "projectruns.yokeflow.io" in names


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["template"]["metadata"]["labels"])
