"""The Kubernetes payloads the builders return, as TypedDicts (like kopf's raw bodies).

Only the fields YokeFlow sets are declared; every dictionary is exactly what the API server
receives (camelCase keys), so the Kubernetes client can send it unchanged and mypy checks each key
a builder writes.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "Container",
    "EnvVar",
    "Job",
    "JobSpec",
    "LabelSelector",
    "NetworkPolicy",
    "ObjectMeta",
    "OwnerReference",
    "PodSpec",
    "PodTemplate",
    "PolicyRule",
    "Secret",
    "SecurityContext",
    "Toleration",
    "Volume",
    "VolumeMount",
]


class OwnerReference(TypedDict):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool
    blockOwnerDeletion: bool


class ObjectMeta(TypedDict):
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: NotRequired[dict[str, str]]
    ownerReferences: list[OwnerReference]
    finalizers: NotRequired[list[str]]


class SecretKeySelector(TypedDict):
    name: str
    key: str
    optional: NotRequired[bool]


class EnvVarSource(TypedDict):
    secretKeyRef: SecretKeySelector


class EnvVar(TypedDict):
    name: str
    value: NotRequired[str]
    valueFrom: NotRequired[EnvVarSource]


class VolumeMount(TypedDict):
    name: str
    mountPath: str
    readOnly: NotRequired[bool]
    subPath: NotRequired[str]


class Capabilities(TypedDict):
    drop: list[str]


class SeccompProfile(TypedDict):
    type: Literal["RuntimeDefault"]


class SecurityContext(TypedDict):
    allowPrivilegeEscalation: bool
    readOnlyRootFilesystem: bool
    runAsNonRoot: bool
    capabilities: Capabilities


class PodSecurityContext(TypedDict):
    runAsNonRoot: bool
    runAsUser: int
    runAsGroup: int
    fsGroup: int
    seccompProfile: SeccompProfile


class ResourceRequirements(TypedDict, total=False):
    requests: dict[str, int | str]
    limits: dict[str, int | str]


class Container(TypedDict):
    name: str
    image: str
    command: list[str]
    args: list[str]
    workingDir: NotRequired[str]
    env: list[EnvVar]
    volumeMounts: list[VolumeMount]
    resources: NotRequired[ResourceRequirements]
    securityContext: SecurityContext
    terminationMessagePolicy: Literal["File", "FallbackToLogsOnError"]


class KeyToPath(TypedDict):
    key: str
    path: str


class SecretVolumeSource(TypedDict):
    secretName: str
    defaultMode: int
    optional: NotRequired[bool]
    items: NotRequired[list[KeyToPath]]


class EmptyDirVolumeSource(TypedDict, total=False):
    sizeLimit: str
    medium: str


class PersistentVolumeClaimVolumeSource(TypedDict):
    claimName: str
    readOnly: bool


class VolumeResources(TypedDict):
    requests: dict[str, str]


class EphemeralClaimSpec(TypedDict):
    accessModes: list[str]
    resources: VolumeResources
    storageClassName: NotRequired[str]


class EphemeralClaimTemplate(TypedDict):
    metadata: dict[str, dict[str, str]]
    spec: EphemeralClaimSpec


class EphemeralVolumeSource(TypedDict):
    volumeClaimTemplate: EphemeralClaimTemplate


class ConfigMapVolumeSource(TypedDict):
    name: str
    defaultMode: int
    items: NotRequired[list[KeyToPath]]


class Volume(TypedDict):
    name: str
    secret: NotRequired[SecretVolumeSource]
    configMap: NotRequired[ConfigMapVolumeSource]
    emptyDir: NotRequired[EmptyDirVolumeSource]
    ephemeral: NotRequired[EphemeralVolumeSource]
    persistentVolumeClaim: NotRequired[PersistentVolumeClaimVolumeSource]


class Toleration(TypedDict):
    key: NotRequired[str]
    operator: NotRequired[Literal["Exists", "Equal"]]
    value: NotRequired[str]
    effect: NotRequired[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]]
    tolerationSeconds: NotRequired[int]


class PodSpec(TypedDict):
    restartPolicy: Literal["Never"]
    automountServiceAccountToken: bool
    enableServiceLinks: bool
    securityContext: PodSecurityContext
    initContainers: list[Container]
    containers: list[Container]
    volumes: list[Volume]
    serviceAccountName: NotRequired[str]
    nodeSelector: NotRequired[dict[str, str]]
    tolerations: NotRequired[list[Toleration]]


class TemplateMeta(TypedDict):
    labels: dict[str, str]
    annotations: NotRequired[dict[str, str]]


class PodTemplate(TypedDict):
    metadata: TemplateMeta
    spec: PodSpec


class JobSpec(TypedDict):
    backoffLimit: int
    completions: int
    parallelism: int
    activeDeadlineSeconds: int
    ttlSecondsAfterFinished: int
    suspend: bool
    template: PodTemplate


class Job(TypedDict):
    apiVersion: Literal["batch/v1"]
    kind: Literal["Job"]
    metadata: ObjectMeta
    spec: JobSpec


class Secret(TypedDict):
    apiVersion: Literal["v1"]
    kind: Literal["Secret"]
    metadata: ObjectMeta
    type: str
    stringData: dict[str, str]


class LabelSelector(TypedDict):
    matchLabels: dict[str, str]


class NetworkPolicyPort(TypedDict):
    protocol: Literal["TCP", "UDP"]
    port: int


class IPBlock(TypedDict):
    cidr: str


class NetworkPolicyPeer(TypedDict, total=False):
    ipBlock: IPBlock
    podSelector: LabelSelector
    namespaceSelector: LabelSelector


class NetworkPolicyEgressRule(TypedDict):
    to: NotRequired[list[NetworkPolicyPeer]]
    ports: list[NetworkPolicyPort]


class NetworkPolicySpec(TypedDict):
    podSelector: LabelSelector
    policyTypes: list[Literal["Ingress", "Egress"]]
    ingress: list[object]
    egress: list[NetworkPolicyEgressRule]


class NetworkPolicy(TypedDict):
    apiVersion: Literal["networking.k8s.io/v1"]
    kind: Literal["NetworkPolicy"]
    metadata: ObjectMeta
    spec: NetworkPolicySpec


class PolicyRule(TypedDict):
    apiGroups: list[str]
    resources: list[str]
    verbs: list[str]
