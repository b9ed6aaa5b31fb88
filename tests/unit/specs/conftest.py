"""Inputs shared by the builders' tests: a ProjectRun spec, its owners, the pod settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.names import Owner
from yokeflow.specs.pods import PodSettings

COMMIT = "a" * 40


def run_spec(**extra: Any) -> ProjectRunSpec:
    """A minimal valid spec (HTTPS repository with a credentials Secret), with ``extra`` fields."""
    data: dict[str, Any] = {
        "repository": {
            "url": "https://git.example.com/acme/todo.git",
            "credentialsSecret": {"name": "todo-git"},
        },
        "spec": {"text": "Build a to-do API."},
        **extra,
    }
    return ProjectRunSpec.model_validate(data)


@pytest.fixture
def spec() -> ProjectRunSpec:
    return run_spec()


@pytest.fixture
def make_spec() -> Callable[..., ProjectRunSpec]:
    """``run_spec`` as a fixture: a spec with extra fields."""
    return run_spec


@pytest.fixture
def run_owner() -> Owner:
    return Owner("yokeflow.io/v1alpha1", "ProjectRun", "todo", "uid-run")


@pytest.fixture
def batch_owner() -> Owner:
    return Owner("yokeflow.io/v1alpha1", "TaskBatch", "todo-batch-1", "uid-batch")


@pytest.fixture
def settings() -> PodSettings:
    return PodSettings(
        image="ghcr.io/example/yokeflow-agent:1.0",
        mcp_url="http://yokeflow-mcp.yokeflow-system:8080/mcp",
        api_key_secret=("yokeflow-anthropic", "api-key"),
    )


@pytest.fixture
def task() -> BatchTask:
    return BatchTask(
        key="api-auth",
        title="Add login",
        epic="api",
        model="claude-sonnet-4-5",
        branch="yokeflow/todo/api-auth",
    )
