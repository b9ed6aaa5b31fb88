"""Types shared by both kinds: references to Secrets and ConfigMaps, and Kubernetes-style conditions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from yokeflow.api.v1alpha1.base import ApiModel

__all__ = [
    "DNS1123_LABEL_PATTERN",
    "DNS1123_SUBDOMAIN_PATTERN",
    "Condition",
    "ConditionStatus",
    "ConfigMapKeyRef",
    "ObjectName",
    "SecretKeyRef",
    "SecretRef",
]

DNS1123_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS1123_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ObjectName = Annotated[str, Field(min_length=1, max_length=253, pattern=DNS1123_SUBDOMAIN_PATTERN)]
"""The name of a Kubernetes object in the same namespace (a DNS-1123 subdomain)."""
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"


class SecretRef(ApiModel):
    """A Secret in the ProjectRun's namespace."""

    name: ObjectName
    """The Secret's name."""


class SecretKeyRef(ApiModel):
    """One key of a Secret in the ProjectRun's namespace."""

    name: ObjectName
    """The Secret's name."""
    key: str = Field(default="api-key", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """The key inside the Secret whose value is used."""


class ConfigMapKeyRef(ApiModel):
    """One key of a ConfigMap in the ProjectRun's namespace."""

    name: ObjectName
    """The ConfigMap's name."""
    key: str = Field(default="spec.md", min_length=1, max_length=253, pattern=SECRET_KEY_PATTERN)
    """The key inside the ConfigMap whose value is the text."""


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """One aspect of an object's state, as every Kubernetes controller reports it."""

    type: str = Field(
        min_length=1, max_length=316, pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9_.-]*[A-Za-z0-9]$"
    )
    """The aspect, in CamelCase (``Ready``, ``Planned``, ``Progressing``, ``BudgetOk``, ``Degraded``)."""
    status: ConditionStatus
    """``True``, ``False`` or ``Unknown``."""
    reason: str = Field(
        min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
    )
    """Why, in one CamelCase word a program can match (``TasksRunning``, ``CyclicPlan``)."""
    message: str = Field(default="", max_length=32768)
    """Why, in one sentence a person can read."""
    last_transition_time: datetime
    """When ``status`` last changed."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The ``metadata.generation`` this condition was computed from."""
