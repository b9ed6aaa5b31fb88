"""The inline plan of a ProjectRun ("plan as code"): epics and tasks with their dependencies.

The same shape as a plan file (:mod:`yokeflow.core.plan`), with the API's camelCase names
(``dependsOn``, ``estimateMinutes``) and limits the API server enforces, so an oversized plan is
refused at ``kubectl apply`` instead of filling etcd. Keys are unique within their list (a
``map`` list keyed by ``key``); what the schema cannot check — a task key repeated in two epics,
a dependency on an unknown key, a cycle — the operator reports in the ``Planned`` condition
(:func:`yokeflow.specs.inline_plan.to_plan` raises a :class:`~yokeflow.errors.PlanError` that
says which).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from yokeflow.api.v1alpha1.base import ApiModel

__all__ = [
    "KEY_PATTERN",
    "MAX_DEPENDENCIES",
    "MAX_EPICS",
    "MAX_TASKS",
    "MAX_TASKS_PER_EPIC",
    "InlineEpic",
    "InlinePlan",
    "InlineTask",
]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""The plan file's key pattern (a contract test keeps it equal to core.plan's)."""
MAX_EPICS = 100
MAX_TASKS_PER_EPIC = 1000
MAX_TASKS = 2000
"""Tasks in the whole inline plan; a larger plan belongs in a ConfigMap-held spec."""
MAX_DEPENDENCIES = 100
"""Dependencies of one task, and epic dependencies of one epic."""

Key = Annotated[str, Field(min_length=1, max_length=100, pattern=KEY_PATTERN)]
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$"
"""A model id or tier name, as ``spec.models`` and a task's ``model`` accept it."""
DependencyType = Literal["hard", "soft"]


class InlineTask(ApiModel):
    """One unit of work, run by one agent in its own Job and worktree."""

    key: Key
    """Unique across the whole plan; names the task's branch and Job."""
    title: str = Field(min_length=1, max_length=200)
    """One line saying what the task does."""
    description: str = Field(default="", max_length=20000)
    """What the agent needs to know to do it."""
    depends_on: list[Key] = Field(
        default_factory=list,
        max_length=MAX_DEPENDENCIES,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    """Keys of the tasks (of any epic) this one depends on."""
    dependency_type: DependencyType = "hard"
    """``hard`` waits until those tasks are done and merged; ``soft`` only orders them first."""
    estimate_minutes: float = Field(default=1.0, gt=0, le=10080)
    """Expected duration in minutes, used for the critical path, the ETA and scheduling."""
    priority: int = Field(default=0, ge=-1000, le=1000)
    """Lower runs first among tasks that are ready together."""
    type: str | None = Field(default=None, min_length=1, max_length=63)
    """A free-form task type (``schema``, ``api``, ``ui``, ``test``…) matched by ``models.byTaskType``."""
    model: str | None = Field(default=None, min_length=1, max_length=128, pattern=MODEL_PATTERN)
    """Pins the model of every attempt of this task (a tier: ``haiku``, ``sonnet``, ``opus``, or a
    Claude model id such as ``claude-opus-4-5``) over ``models``; conflict resolution of its
    branch still uses the run's default model."""


class InlineEpic(ApiModel):
    """A group of related tasks; depending on an epic waits for every one of its tasks."""

    key: Key
    """Unique among epics."""
    name: str = Field(min_length=1, max_length=200)
    """Human-readable name."""
    description: str = Field(default="", max_length=20000)
    """What the epic is about."""
    priority: int = Field(default=0, ge=-1000, le=1000)
    """Lower runs first among equals."""
    depends_on: list[Key] = Field(
        default_factory=list,
        max_length=MAX_DEPENDENCIES,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    """Epic keys: every task here waits (hard) for every task of those epics."""
    tasks: list[InlineTask] = Field(
        min_length=1,
        max_length=MAX_TASKS_PER_EPIC,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    """The epic's tasks, keyed by ``key``."""


class InlinePlan(ApiModel):
    """A whole plan written into the ProjectRun: a name and its epics."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": f"self.epics.map(e, size(e.tasks)).sum() <= {MAX_TASKS}",
                    "message": f"an inline plan holds at most {MAX_TASKS} tasks",
                },
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    """The project's name."""
    description: str = Field(default="", max_length=20000)
    """What the project is about."""
    epics: list[InlineEpic] = Field(
        min_length=1,
        max_length=MAX_EPICS,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    """The plan's epics, keyed by ``key``."""
