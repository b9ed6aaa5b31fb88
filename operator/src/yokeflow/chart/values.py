"""The Helm chart's values, as a model: ``values.yaml`` and ``values.schema.json`` are generated
from it (``yokeflow generate``), so every value is documented once, here.

Keys are camelCase, as Helm charts write them, except under ``config``: that section is
YokeFlow's own settings file (``.yokeflow.yaml``, the same keys as ``yokeflow config show``),
mounted into the operator and API pods; each of its fields is also the environment variable
``YOKEFLOW_<SECTION>_<FIELD>``. Settings that hold secrets or only make sense on one machine
are left out of it (see :data:`CONFIG_EXCLUDED`): the database URL comes from a Secret.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from yokeflow.settings import Settings

__all__ = [
    "AGENT_IMAGE",
    "CONFIG_EXCLUDED",
    "OPERATOR_IMAGE",
    "ApiAuthValues",
    "ApiServiceValues",
    "ApiValues",
    "ChartValues",
    "CrdValues",
    "DashboardValues",
    "DatabaseValues",
    "ImageValues",
    "KueueValues",
    "ModelCredentialsValues",
    "MonitoringValues",
    "NetworkPolicyValues",
    "OperatorValues",
    "PostgresAuthValues",
    "PostgresPersistenceValues",
    "PostgresqlValues",
    "PrometheusRuleValues",
    "RbacValues",
    "ResourceValues",
    "SecretKeyValues",
    "ServiceAccountValues",
    "ServiceMonitorValues",
    "config_defaults",
]

OPERATOR_IMAGE = "ghcr.io/yokeflow/yokeflow-operator"
"""The operator and API image (``images/operator``), without its tag."""
AGENT_IMAGE = "ghcr.io/yokeflow/yokeflow-agent"
"""The agent image (``images/agent``), without its tag."""

CONFIG_EXCLUDED: frozenset[str] = frozenset(
    {
        "database.url",
        "database.data_dir",
        "operator.kubeconfig",
        "operator.agent_image",
        "operator.mcp_url",
        "operator.mcp_signing_key",
    }
)
"""Settings the chart does not take under ``config``: the database URL and the MCP signing key
are secrets (they come from Secrets: ``database``, ``operator.mcpSigningKey``); the embedded
server's folder is for one machine; pods reach the API server with their service account; the
agent image is ``agentImage`` (its tag follows the chart's) and the MCP URL is the operator's
Service (``operator.mcpUrl`` overrides it)."""


class _Values(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )


class ImageValues(_Values):
    """A container image."""

    repository: str
    """The image without its tag."""
    tag: str = ""
    """The image tag; empty uses the chart's ``appVersion``."""
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """When the kubelet pulls the image."""


class ResourceValues(_Values):
    """Compute resources of a container."""

    requests: dict[str, str] = Field(default_factory=dict)
    """What the scheduler reserves (``cpu``, ``memory``)."""
    limits: dict[str, str] = Field(default_factory=dict)
    """The most the container may use."""


class _PodPlacement(_Values):
    resources: ResourceValues = Field(
        default_factory=lambda: ResourceValues(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "512Mi"}
        )
    )
    """The container's requests and limits."""
    pod_annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations added to the pods."""
    node_selector: dict[str, str] = Field(default_factory=dict)
    """Node labels the pods must run on."""
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    """Taints the pods tolerate."""
    affinity: dict[str, Any] = Field(default_factory=dict)
    """Pod affinity and anti-affinity rules."""
    extra_env: list[dict[str, Any]] = Field(default_factory=list)
    """Further environment variables of the container (Kubernetes ``env`` entries)."""


class SecretKeyValues(_Values):
    """A key of a Secret."""

    existing_secret: str = ""
    """The Secret's name; empty: none."""
    key: str = "key"
    """The key."""


class OperatorValues(_PodPlacement):
    """The operator: one replica, replaced with ``Recreate`` (kopf's peering is not leader
    election, so two must never run at once). Its ports are ``config.operator.liveness_port``,
    ``metrics_port`` and ``mcp_port``."""

    mcp_signing_key: SecretKeyValues = Field(default_factory=SecretKeyValues)
    """The Secret key that signs agents' task tokens, so that they outlive an operator restart;
    empty: a new key per start (running agents then lose their task tools when it restarts)."""
    mcp_url: str = ""
    """The MCP task manager's URL as agent pods reach it; empty: the operator's Service
    (``http://<fullname>-operator.<namespace>.svc:<mcp_port>``)."""


class ApiAuthValues(_Values):
    """The API's bearer token."""

    existing_secret: str = ""
    """A Secret holding the token (at least 16 characters); empty: ``<fullname>-api``."""
    key: str = "token"
    """The Secret's key holding the token."""
    token: str = ""
    """When set, the chart creates the Secret with this token (otherwise create it yourself:
    ``kubectl create secret generic <fullname>-api --from-literal=token=…``)."""


class ApiServiceValues(_Values):
    """The API's Service."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    """The Service type."""
    port: int = Field(default=80, ge=1, le=65535)
    """The Service's port."""


class ApiValues(_PodPlacement):
    """The REST + WebSocket API and the web dashboard (``yokeflow api``)."""

    enabled: bool = True
    """Deploy the API."""
    replicas: int = Field(default=1, ge=0)
    """How many API pods."""
    port: int = Field(default=8787, ge=1, le=65535)
    """The port the API listens on in its pod."""
    auth: ApiAuthValues = Field(default_factory=ApiAuthValues)
    """Where the API's bearer token comes from."""
    service: ApiServiceValues = Field(default_factory=ApiServiceValues)
    """The API's Service."""


class ModelCredentialsValues(_Values):
    """The model's credentials, for sessions the API and the operator start themselves."""

    existing_secret: str = ""
    """A Secret whose keys (``ANTHROPIC_API_KEY`` or ``CLAUDE_CODE_OAUTH_TOKEN``) become the
    operator's and the API's environment; empty: none. Agent pods get theirs from the
    ProjectRun's ``spec.agent`` credentials Secret."""


class DatabaseValues(_Values):
    """An external PostgreSQL (14 or later)."""

    existing_secret: str = ""
    """A Secret holding the database URL; set, the in-chart PostgreSQL is not deployed."""
    url_key: str = "url"
    """The Secret's key holding the URL (``postgresql://user:password@host:5432/db``)."""


class PostgresAuthValues(_Values):
    """The in-chart PostgreSQL's account."""

    username: str = "yokeflow"
    """The database user."""
    database: str = "yokeflow"
    """The database name."""
    existing_secret: str = ""
    """A Secret holding the user's password; empty: ``<fullname>-postgresql``."""
    password_key: str = "password"
    """The Secret's key holding the password."""
    password: str = ""
    """When set, the chart creates the Secret with this password (otherwise create it yourself:
    ``kubectl create secret generic <fullname>-postgresql --from-literal=password=…``)."""


class PostgresPersistenceValues(_Values):
    """The in-chart PostgreSQL's volume."""

    size: str = "8Gi"
    """The size of its PersistentVolumeClaim."""
    storage_class: str = ""
    """A StorageClass; empty uses the cluster's default."""


class PostgresqlValues(_Values):
    """The in-chart PostgreSQL: a StatefulSet of the official ``postgres`` image, deployed when
    ``database.existingSecret`` is empty."""

    image: ImageValues = Field(
        default_factory=lambda: ImageValues(repository="docker.io/library/postgres", tag="17.7")
    )
    """The official PostgreSQL image."""
    auth: PostgresAuthValues = Field(default_factory=PostgresAuthValues)
    """Its user, database and password."""
    persistence: PostgresPersistenceValues = Field(default_factory=PostgresPersistenceValues)
    """Its data volume."""
    resources: ResourceValues = Field(
        default_factory=lambda: ResourceValues(
            requests={"cpu": "250m", "memory": "256Mi"}, limits={"memory": "1Gi"}
        )
    )
    """Its requests and limits."""


class CrdValues(_Values):
    """The ProjectRun and TaskBatch CustomResourceDefinitions."""

    install: bool = True
    """Install the CRDs with the chart. They are kept when the release is uninstalled (deleting
    them would delete every ProjectRun); remove them with ``kubectl delete crd``."""


class ServiceAccountValues(_Values):
    """The operator's ServiceAccount."""

    create: bool = True
    """Create it."""
    name: str = ""
    """Its name; empty: ``<fullname>-operator``."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations (for example a cloud identity)."""


class RbacValues(_Values):
    """The operator's least-privilege ClusterRole and its binding."""

    create: bool = True
    """Create them (the rules are listed in docs/rbac.md)."""


class NetworkPolicyValues(_Values):
    """NetworkPolicies of the chart's pods."""

    enabled: bool = True
    """Admit traffic only where it is needed: the API's port from anywhere, the operator's
    health and metrics ports, PostgreSQL from the operator and the API alone."""


class ServiceMonitorValues(_Values):
    """A Prometheus Operator ServiceMonitor (made only when its API is served)."""

    enabled: bool = True
    """Create it when ``monitoring.coreos.com/v1`` is available."""
    interval: str = "30s"
    """How often Prometheus scrapes."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels your Prometheus selects ServiceMonitors by."""


class PrometheusRuleValues(_Values):
    """YokeFlow's alert rules as a PrometheusRule (made only when its API is served)."""

    enabled: bool = True
    """Create it when ``monitoring.coreos.com/v1`` is available."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels your Prometheus selects rules by."""


class MonitoringValues(_Values):
    """Prometheus Operator objects."""

    service_monitor: ServiceMonitorValues = Field(default_factory=ServiceMonitorValues)
    """Scraping the operator's and the API's ``/metrics``."""
    prometheus_rule: PrometheusRuleValues = Field(default_factory=PrometheusRuleValues)
    """The alert rules."""


class DashboardValues(_Values):
    """Grafana dashboards as ConfigMaps, found by the Grafana sidecar through a label."""

    enabled: bool = True
    """Ship the dashboards."""
    label: str = "grafana_dashboard"
    """The label the Grafana sidecar watches."""
    label_value: str = "1"
    """That label's value."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations of the ConfigMaps (for example the sidecar's ``grafana_folder``)."""


class KueueValues(_Values):
    """Kueue: a LocalQueue that ProjectRuns can name in ``spec.queueName``."""

    create_local_queue: bool = False
    """Create a LocalQueue in the release's namespace (needs Kueue installed)."""
    local_queue: str = "yokeflow"
    """The LocalQueue's name."""
    cluster_queue: str = "cluster-queue"
    """The ClusterQueue it feeds."""
    api_version: str = "kueue.x-k8s.io/v1beta1"
    """Kueue's API version in this cluster."""


class ChartValues(_Values):
    """Every value of the ``yokeflow`` Helm chart."""

    image: ImageValues = Field(default_factory=lambda: ImageValues(repository=OPERATOR_IMAGE))
    """The operator image (``images/operator``); the API runs from it too."""
    agent_image: ImageValues = Field(default_factory=lambda: ImageValues(repository=AGENT_IMAGE))
    """The image of task, merge and planning Jobs when a ProjectRun names none
    (``images/agent``; ``spec.agent.image`` overrides it per run)."""
    image_pull_secrets: list[dict[str, str]] = Field(default_factory=list)
    """Secrets for pulling images from a private registry (``[{name: …}]``)."""
    name_override: str = ""
    """Replaces the chart's name in resource names."""
    full_name_override: str = ""
    """Replaces ``<fullname>``, the prefix of every object's name: ``<release>-yokeflow``, or the
    release's name alone when it contains ``yokeflow``."""
    config: dict[str, dict[str, Any]] = Field(default_factory=lambda: config_defaults())
    """YokeFlow's settings (the sections of ``.yokeflow.yaml``; docs/configuration.md)."""
    model_credentials: ModelCredentialsValues = Field(
        default_factory=lambda: ModelCredentialsValues()
    )
    """The model's credentials."""
    database: DatabaseValues = Field(default_factory=DatabaseValues)
    """An external PostgreSQL; leave ``existingSecret`` empty for the in-chart one."""
    postgresql: PostgresqlValues = Field(default_factory=PostgresqlValues)
    """The in-chart PostgreSQL."""
    operator: OperatorValues = Field(default_factory=OperatorValues)
    """The operator's pod."""
    api: ApiValues = Field(default_factory=ApiValues)
    """The API's pods and Service."""
    crds: CrdValues = Field(default_factory=CrdValues)
    """The custom resource definitions."""
    service_account: ServiceAccountValues = Field(default_factory=ServiceAccountValues)
    """The operator's ServiceAccount."""
    rbac: RbacValues = Field(default_factory=RbacValues)
    """The operator's permissions."""
    network_policy: NetworkPolicyValues = Field(default_factory=NetworkPolicyValues)
    """NetworkPolicies."""
    monitoring: MonitoringValues = Field(default_factory=MonitoringValues)
    """ServiceMonitor and PrometheusRule."""
    dashboards: DashboardValues = Field(default_factory=DashboardValues)
    """Grafana dashboards."""
    kueue: KueueValues = Field(default_factory=KueueValues)
    """Kueue integration."""


def config_defaults() -> dict[str, dict[str, Any]]:
    """The default of every setting the chart takes, by section (JSON-compatible values)."""
    dumped = Settings().model_dump(mode="json")
    return {
        section: {
            name: value
            for name, value in fields.items()
            if f"{section}.{name}" not in CONFIG_EXCLUDED
        }
        for section, fields in dumped.items()
    }
