"""yokeflow.specs.inline_plan: an inline plan as the engine's plan, and its problems."""

from __future__ import annotations

from typing import Any

import pytest

from yokeflow.api.v1alpha1 import InlinePlan
from yokeflow.core.plan import parse_plan
from yokeflow.errors import NotFoundError, PlanError
from yokeflow.services.task_sources import spec_from_plan
from yokeflow.specs.inline_plan import plan_problems, plan_yaml, task_plan, to_plan


def _plan(*epics: dict[str, Any]) -> InlinePlan:
    return InlinePlan.model_validate({"name": "p", "epics": list(epics)})


def _epic(key: str, *tasks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "tasks": list(tasks), **extra}


def _task(key: str, *deps: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": key, "dependsOn": list(deps), **extra}


def test_an_inline_plan_becomes_the_same_plan_as_its_file_form() -> None:
    inline = _plan(
        _epic("db", _task("schema", estimateMinutes=10)),
        _epic("api", _task("list", "schema", dependencyType="soft", type="api"), dependsOn=["db"]),
    )

    plan = to_plan(inline)
    assert parse_plan(plan_yaml(plan), "plan.yaml") == plan
    task = plan.epics[1].tasks[0]
    assert task.dependencies()[0].type == "soft"
    assert task.type == "api"
    assert plan.epics[1].depends_on == ["db"]
    assert plan_problems(inline) == []


@pytest.mark.parametrize(
    ("inline", "words"),
    [
        (_plan(_epic("e", _task("a", "b"), _task("b", "a"))), "cycle: "),
        (
            _plan(_epic("e", _task("a", "ghost"))),
            "'a' depends on 'ghost', which is not in the plan",
        ),
        (
            _plan(_epic("e", _task("a"), dependsOn=["nowhere"])),
            "epic 'e' depends on 'nowhere'",
        ),
        (_plan(_epic("e", _task("a")), _epic("f", _task("a"))), "task key 'a' is used twice"),
    ],
)
def test_what_the_schema_cannot_see_is_one_sentence_each(inline: InlinePlan, words: str) -> None:
    problems = plan_problems(inline)
    assert len(problems) == 1
    assert words in problems[0]


def test_a_duplicate_task_key_is_a_plan_error_naming_the_field() -> None:
    with pytest.raises(PlanError, match=r"spec\.plan: task key 'a' is used twice"):
        to_plan(_plan(_epic("e", _task("a")), _epic("f", _task("a"))))


def test_a_task_plan_holds_the_task_and_its_dependencies_titles_only() -> None:
    inline = _plan(
        _epic("db", _task("schema", title="The schema"), _task("seed", "schema")),
        _epic(
            "api",
            _task("list", "schema", description="List things.", estimateMinutes=5),
            _task("other", "list"),
            dependsOn=["db"],
        ),
        _epic("ui", _task("page", "list")),
    )
    plan = to_plan(inline)

    small = task_plan(plan, "list")
    text = plan_yaml(small)
    reread = parse_plan(text, "plan.yaml")
    assert [(e.key, [t.key for t in e.tasks]) for e in reread.epics] == [
        ("db", ["schema"]),
        ("api", ["list"]),
    ]
    # What the runner reads from it is what it would read from the whole plan.
    assert spec_from_plan(reread, "list", "x") == spec_from_plan(plan, "list", "x")
    assert spec_from_plan(reread, "list", "x").dependencies == (("schema", "The schema"),)
    assert len(text) < len(plan_yaml(plan))
    with pytest.raises(NotFoundError):
        task_plan(plan, "missing")
