"""The v1alpha1 models: camelCase on the wire, strict input, money as Decimal in and number out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import yokeflow.api.v1alpha1 as v1alpha1
from yokeflow.api.v1alpha1 import (
    PROJECT_RUN,
    TASK_BATCH,
    Condition,
    ParallelSpec,
    ProjectRun,
    ProjectRunSpec,
    ProjectRunStatus,
    TaskBatch,
    TaskCounts,
)
from yokeflow.api.v1alpha1.plan_types import KEY_PATTERN
from yokeflow.core import plan as core_plan

ROOT = Path(__file__).resolve().parents[2]


def _spec(**extra: object) -> dict[str, object]:
    return {
        "repository": {"url": "https://git.example.com/a/b.git"},
        "spec": {"text": "x"},
        **extra,
    }


def test_wire_names_are_camel_case_and_python_names_snake_case() -> None:
    parallel = ParallelSpec.model_validate({"maxConcurrency": 5, "failFast": True})

    assert parallel.max_concurrency == 5
    assert parallel.fail_fast is True
    assert ParallelSpec(max_concurrency=2).model_dump(mode="json") == {
        "maxConcurrency": 2,
        "schedule": "eager",
        "mergeStrategy": "merge",
        "failFast": False,
    }


def test_an_unknown_field_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="maxConcurency"):
        ProjectRunSpec.model_validate(_spec(parallel={"maxConcurency": 3}))


def test_money_is_a_decimal_in_python_and_a_number_in_json() -> None:
    spec = ProjectRunSpec.model_validate(_spec(budget={"limitUsd": 12.5}))
    assert spec.budget.limit_usd == Decimal("12.5")

    status = ProjectRunStatus(cost_usd=Decimal("3.21"))
    assert json.loads(status.model_dump_json())["costUsd"] == 3.21


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"parallel": {"maxConcurrency": 0}}, "greater than or equal to 1"),
        ({"budget": {"limitUsd": -1}}, "greater than or equal to 0"),
        ({"parallel": {"schedule": "random"}}, "'eager' or 'batches'"),
        ({"queueName": "Not_A_Label"}, "should match pattern"),
        ({"agent": {"resources": {"limits": {"cpu": "two"}}}}, "should match pattern"),
    ],
)
def test_python_validation_refuses_what_the_schema_refuses(
    extra: dict[str, object], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        ProjectRunSpec.model_validate(_spec(**extra))


def test_resource_quantities_accept_integers_and_strings() -> None:
    spec = ProjectRunSpec.model_validate(
        _spec(agent={"resources": {"requests": {"cpu": 1, "memory": "512Mi"}}})
    )
    assert spec.agent.resources.requests == {"cpu": 1, "memory": "512Mi"}


def test_progress_is_succeeded_over_total() -> None:
    assert TaskCounts(total=40, succeeded=12, running=3).progress() == "12/40"


def test_a_status_round_trips_through_its_json_form() -> None:
    status = ProjectRunStatus(
        phase="Running",
        observed_generation=2,
        tasks=TaskCounts(total=8, succeeded=2, running=3, pending=3),
        progress="2/8",
        cost_usd=Decimal("0.42"),
        eta=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
        conditions=[
            Condition(
                type="Ready",
                status="False",
                reason="TasksRunning",
                message="3 of 8 tasks are running.",
                last_transition_time=datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
            )
        ],
    )
    wire = status.model_dump(mode="json", exclude_none=True)

    assert wire["conditions"][0]["lastTransitionTime"] == "2026-12-03T11:00:00Z"
    assert wire["eta"] == "2026-12-03T12:00:00Z"
    assert ProjectRunStatus.model_validate(wire) == status


def test_the_inline_plan_uses_the_plan_files_key_pattern() -> None:
    assert core_plan.KEY_PATTERN == KEY_PATTERN


def test_kind_metadata_names_the_crds() -> None:
    assert PROJECT_RUN.crd_name == "projectruns.yokeflow.io"
    assert TASK_BATCH.api_version == "yokeflow.io/v1alpha1"
    assert [c.name for c in PROJECT_RUN.printer_columns] == [
        "Phase",
        "Progress",
        "Ready",
        "Reason",
        "Cost",
        "Age",
    ]


def test_the_public_names_are_pinned() -> None:
    assert sorted(v1alpha1.__all__) == sorted(
        name
        for name in dir(v1alpha1)
        if not name.startswith("_")
        and name.isidentifier()
        and name
        not in {"annotations", "base", "meta", "plan_types", "projectrun_types", "taskbatch_types"}
    )


@pytest.mark.parametrize("path", sorted((ROOT / "examples/projectrun").glob("*.yaml")), ids=str)
def test_every_example_manifest_is_a_valid_object(path: Path) -> None:
    objects = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    models = {"ProjectRun": ProjectRun, "TaskBatch": TaskBatch}
    ours = [doc for doc in objects if doc["kind"] in models]
    assert ours, f"{path.name} holds no YokeFlow object"
    for doc in ours:
        models[doc["kind"]].model_validate(doc)
