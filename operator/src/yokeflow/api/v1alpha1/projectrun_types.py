"""ProjectRun: one run of one project — its repository, what to build, how, and where it stands.

``spec`` is what a person writes (``kubectl apply``); ``status`` is written only by the operator,
through the status subresource. Field docstrings are what ``kubectl explain projectrun.spec…``
prints.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from yokeflow.api.v1alpha1.base import ApiModel, KindInfo, PrinterColumn, Quantity, Usd
from yokeflow.api.v1alpha1.meta import (
    DNS1123_LABEL_PATTERN,
    Condition,
    ConfigMapKeyRef,
    SecretKeyRef,
    SecretRef,
)
from yokeflow.api.v1alpha1.plan_types import MAX_TASKS, MODEL_PATTERN, InlinePlan

__all__ = [
    "MAX_SPEC_TEXT",
    "PROJECT_RUN",
    "AgentSpec",
    "BatchProgress",
    "BudgetAction",
    "BudgetSpec",
    "CriticalPath",
    "LearningSpec",
    "ModelsSpec",
    "ParallelSpec",
    "ProjectRun",
    "ProjectRunCondition",
    "ProjectRunPhase",
    "ProjectRunSpec",
    "ProjectRunStatus",
    "RepositorySpec",
    "ResourceRequirements",
    "RetrySpec",
    "SpecSource",
    "TaskCounts",
    "TierPrice",
    "TimeoutSpec",
]

MAX_SPEC_TEXT = 262144
"""Characters of an inline spec text; a longer one belongs in a ConfigMap."""

# https://, ssh://, git://, http:// (an in-cluster git server), file:// (a path on a volume every
# pod of the run mounts), or scp-like user@host:path.
REPOSITORY_URL_PATTERN = (
    r"^((https?|ssh|git)://[^\s]+|file:///[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$"
)
# A conservative subset of what `git check-ref-format --branch` accepts (RE2: no look-arounds).
BRANCH_PATTERN = r"^[A-Za-z0-9_]([A-Za-z0-9._/-]*[A-Za-z0-9_-])?$"

ModelName = Annotated[str, Field(min_length=1, max_length=128, pattern=MODEL_PATTERN)]
ProjectRunPhase = Literal[
    "Pending",
    "Planning",
    "Running",
    "Merging",
    "Suspended",
    "Succeeded",
    "Failed",
    "Cancelled",
    "BudgetExhausted",
]
ProjectRunCondition = Literal["Planned", "Progressing", "Ready", "BudgetOk", "Degraded"]
BudgetAction = Literal["drain", "cancel"]


class RepositorySpec(ApiModel):
    """The git repository the run works on, reached over a real git transport."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "repository cannot change once a run exists"}
            ]
        }
    )

    url: str = Field(min_length=1, max_length=2048, pattern=REPOSITORY_URL_PATTERN)
    """Where to clone from and push to: ``https://``, ``http://``, ``ssh://``, ``git://``,
    ``user@host:path``, or ``file:///path`` for a repository on a volume the run's pods mount."""
    base_branch: str = Field(default="main", min_length=1, max_length=200, pattern=BRANCH_PATTERN)
    """The branch the run starts from; the integration branch is created from its head."""
    credentials_secret: SecretRef | None = None
    """A Secret holding git credentials: ``username`` and ``password`` (a token) for HTTP(S), or
    ``ssh-privatekey`` (and optionally ``known_hosts``) for SSH. Unset for a public or in-cluster
    repository that needs none."""


class SpecSource(ApiModel):
    """The project's specification, for the planning session to turn into a plan."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.text) != has(self.configMapRef)",
                    "message": "set exactly one of spec.text and spec.configMapRef",
                }
            ]
        }
    )

    text: str | None = Field(default=None, min_length=1, max_length=MAX_SPEC_TEXT)
    """The specification itself (Markdown), at most 262144 characters."""
    config_map_ref: ConfigMapKeyRef | None = None
    """A ConfigMap key holding the specification, for a longer one."""


class ParallelSpec(ApiModel):
    """How many agents run at once, in what order, and how their work is merged."""

    max_concurrency: int = Field(default=3, ge=1, le=1000)
    """At most this many task Jobs run at the same time."""
    schedule: Literal["eager", "batches"] = "eager"
    """``eager`` starts a task as soon as its dependencies are merged; ``batches`` starts a whole
    round together and waits for the round to be merged."""
    merge_strategy: Literal["merge", "squash"] = "merge"
    """How a finished task branch lands on the integration branch."""
    fail_fast: bool = False
    """Stop starting tasks once one task has failed for good."""


class TierPrice(ApiModel):
    """Dollars per million tokens of one model tier."""

    input: Usd
    """Per million input tokens."""
    output: Usd
    """Per million output tokens."""


class ModelsSpec(ApiModel):
    """Which model runs each task, and what the models cost."""

    default: ModelName | None = None
    """The model (id or tier: ``haiku``, ``sonnet``, ``opus``) used when no rule chooses another;
    unset uses the operator's default."""
    optimization: bool = True
    """Choose a tier per task from its complexity; false runs every task on ``default``."""
    by_task_type: dict[str, ModelName] = Field(default_factory=dict, max_length=100)
    """Task type → model id or tier, applied before the complexity-based choice."""
    by_priority: dict[str, ModelName] = Field(default_factory=dict, max_length=100)
    """Epic priority (as text, e.g. ``"0"``) → model id or tier, applied after ``byTaskType``."""
    pricing: dict[str, TierPrice] = Field(default_factory=dict, max_length=20)
    """Tier → price, replacing the operator's price list for this run."""


class BudgetSpec(ApiModel):
    """The run's spending limit, shared by all its agents."""

    limit_usd: Usd | None = None
    """The most the run may spend, in dollars; unset means no limit."""
    action: BudgetAction = "drain"
    """What happens when the budget is spent: ``drain`` lets running agents finish and starts no
    more; ``cancel`` also stops running Jobs once the recorded spend reached ``limitUsd`` (what
    they pushed stays on their branches). Either way the phase becomes ``BudgetExhausted``;
    raising ``limitUsd`` resumes the run."""


class LearningSpec(ApiModel):
    """What agents learn from each other during the run."""

    enabled: bool = True
    """Collect lessons from finished tasks and give them to later ones."""
    max_lines: int = Field(default=1000, ge=10, le=100000)
    """The most lines of expertise kept per domain."""
    domains: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        default_factory=list, max_length=50, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Domains lessons are filed under; empty uses the operator's list."""


class ResourceRequirements(ApiModel):
    """Compute resources of the agent container, as in a Pod spec."""

    requests: dict[str, Quantity] = Field(default_factory=dict, max_length=20)
    """Resource name (``cpu``, ``memory``…) → the amount the scheduler reserves."""
    limits: dict[str, Quantity] = Field(default_factory=dict, max_length=20)
    """Resource name → the most the container may use."""


class TimeoutSpec(ApiModel):
    """How long the parts of a task may take."""

    task_seconds: int = Field(default=3600, ge=60, le=604800)
    """The task Job's ``activeDeadlineSeconds``: an agent still running after this is stopped
    and the attempt counts as failed."""
    finished_ttl_seconds: int = Field(default=3600, ge=0, le=2592000)
    """The Job's ``ttlSecondsAfterFinished``: finished Jobs and their pods are deleted after this
    (their results are already in the status and their branches are kept)."""


class RetrySpec(ApiModel):
    """How failed tasks (and planning Jobs) are retried: by the operator, never by the Job
    controller."""

    max_attempts: int = Field(default=2, ge=1, le=10)
    """Attempts per task (and planning Jobs of a spec text), the first one included."""
    backoff_seconds: int = Field(default=30, ge=0, le=86400)
    """The wait before a retry (doubling with each further one)."""


class AgentSpec(ApiModel):
    """The agent pods: their image, credentials, resources, time limits and retries."""

    image: str | None = Field(default=None, min_length=1, max_length=512)
    """The container image of task Jobs; unset uses the operator's agent image."""
    credentials_secret: SecretKeyRef | None = None
    """The Secret key holding the model API key (given to the agent as ``ANTHROPIC_API_KEY``);
    unset uses the operator's."""
    resources: ResourceRequirements = Field(default_factory=ResourceRequirements)
    """The agent container's resources."""
    timeouts: TimeoutSpec = Field(default_factory=TimeoutSpec)
    """Time limits."""
    retries: RetrySpec = Field(default_factory=RetrySpec)
    """Retry policy."""
    max_turns: int = Field(default=60, ge=1, le=1000)
    """The most conversation turns of one agent session."""


class ProjectRunSpec(ApiModel):
    """What to run: a repository, what to build in it (a spec or a plan), and how."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.spec) != has(self.plan)",
                    "message": "set exactly one of spec (a text to plan) and plan (an inline plan)",
                },
            ]
        }
    )

    repository: RepositorySpec
    """The git repository to work on."""
    spec: SpecSource | None = None
    """The specification to plan from (a planning Job turns it into a plan)."""
    plan: InlinePlan | None = None
    """A plan written here ("plan as code"); no planning session runs."""
    parallel: ParallelSpec = Field(default_factory=ParallelSpec)
    """Concurrency, order and merging."""
    models: ModelsSpec = Field(default_factory=ModelsSpec)
    """Model choice and pricing."""
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    """The spending limit."""
    learning: LearningSpec = Field(default_factory=LearningSpec)
    """Lessons shared between agents."""
    agent: AgentSpec = Field(default_factory=AgentSpec)
    """The agent pods."""
    queue_name: str | None = Field(default=None, max_length=63, pattern=DNS1123_LABEL_PATTERN)
    """A Kueue LocalQueue: task Jobs get the ``kueue.x-k8s.io/queue-name`` label and wait,
    suspended, until Kueue admits them (shown as ``Queued``)."""
    suspend: bool = False
    """Pause the run: no new Jobs start, running ones finish; false again resumes."""


class TaskCounts(ApiModel):
    """How many tasks are in each state."""

    total: int = Field(default=0, ge=0)
    """Tasks in the plan."""
    pending: int = Field(default=0, ge=0)
    """Waiting for dependencies or a free slot."""
    queued: int = Field(default=0, ge=0)
    """Their Job exists but Kueue has not admitted it yet."""
    running: int = Field(default=0, ge=0)
    """An agent works on them."""
    succeeded: int = Field(default=0, ge=0)
    """Done, and their work merged."""
    failed: int = Field(default=0, ge=0)
    """Failed for good (every attempt used)."""
    blocked: int = Field(default=0, ge=0)
    """Held back because a dependency failed."""
    cancelled: int = Field(default=0, ge=0)
    """Stopped by a cancellation; their branches are kept."""

    def progress(self) -> str:
        """``succeeded/total`` — the text of the ``Progress`` column (``12/40``)."""
        return f"{self.succeeded}/{self.total}"


class BatchProgress(ApiModel):
    """Scheduling rounds (TaskBatches) so far."""

    done: int = Field(default=0, ge=0)
    """Batches whose work is merged (or preserved)."""
    total: int = Field(default=0, ge=0)
    """Batches created."""


class CriticalPath(ApiModel):
    """The longest chain of unfinished work, which bounds when the run can end."""

    tasks: list[str] = Field(default_factory=list, max_length=MAX_TASKS)
    """Task keys along the chain, first to last."""
    remaining_minutes: float = Field(default=0, ge=0)
    """Estimated minutes of work left along it."""


class ProjectRunStatus(ApiModel):
    """Where the run stands; written by the operator only."""

    phase: ProjectRunPhase = "Pending"
    """The run's phase."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The ``metadata.generation`` of the spec this status describes."""
    tasks: TaskCounts = Field(default_factory=TaskCounts)
    """Tasks by state."""
    progress: str | None = Field(default=None, max_length=32, pattern=r"^[0-9]+/[0-9]+$")
    """``succeeded/total`` as text, for ``kubectl get``."""
    batches: BatchProgress = Field(default_factory=BatchProgress)
    """Batches done and created."""
    cost_usd: Usd = Decimal(0)
    """Dollars spent so far by every agent of the run."""
    critical_path: CriticalPath | None = None
    """The longest chain of unfinished work."""
    eta: datetime | None = None
    """When the run is expected to end, from the critical path and the concurrency."""
    integration_commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    """The integration branch's current commit: new task Jobs start from it."""
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    """``Planned``, ``Progressing``, ``Ready``, ``BudgetOk``, ``Degraded``: each with a reason and a
    one-sentence message."""


class ProjectRun(ApiModel):
    """One run of one project: the whole object as the API server holds it."""

    api_version: Literal["yokeflow.io/v1alpha1"] = "yokeflow.io/v1alpha1"
    kind: Literal["ProjectRun"] = "ProjectRun"
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata (name, namespace, uid, generation…), kept as the API sent it."""
    spec: ProjectRunSpec
    status: ProjectRunStatus | None = None


PROJECT_RUN = KindInfo(
    kind="ProjectRun",
    plural="projectruns",
    singular="projectrun",
    short_names=("pr", "prun"),
    categories=("yokeflow",),
    printer_columns=(
        PrinterColumn("Phase", ".status.phase", description="The run's phase."),
        PrinterColumn("Progress", ".status.progress", description="Tasks succeeded / total."),
        PrinterColumn(
            "Ready",
            '.status.conditions[?(@.type=="Ready")].status',
            description="Whether the run has finished successfully.",
        ),
        PrinterColumn(
            "Reason",
            '.status.conditions[?(@.type=="Ready")].reason',
            description="Why the run is (not) ready.",
        ),
        PrinterColumn("Cost", ".status.costUsd", "number", "Dollars spent so far."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date"),
    ),
)
"""The ProjectRun kind's names and ``kubectl get`` columns."""
