"""One operator pass over a ProjectRun: what the schema cannot refuse becomes a condition with a
one-sentence message, a valid inline plan is planned, nothing raises for bad input."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from yokeflow.services.cluster_run import reconcile_body

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 3, 10, 5, tzinfo=UTC)


def run_body(plan: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    default_plan = {
        "name": "demo",
        "epics": [
            {
                "key": "core",
                "name": "Core",
                "tasks": [
                    {"key": "a", "title": "A", "estimateMinutes": 2},
                    {"key": "b", "title": "B", "dependsOn": ["a"], "estimateMinutes": 3},
                ],
            },
            {
                "key": "ui",
                "name": "UI",
                "dependsOn": ["core"],
                "tasks": [{"key": "c", "title": "C"}],
            },
        ],
    }
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": "r", "namespace": "ns", "generation": 2},
        "spec": {
            "repository": {"url": "git://127.0.0.1/x.git"},
            "plan": plan or default_plan,
            **spec,
        },
    }


async def no_secrets(name: str) -> set[str] | None:
    return None


async def api_key_secret(name: str) -> set[str] | None:
    return {"api-key"} if name == "model" else None


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


async def report(
    body: dict[str, Any], secrets: Any = no_secrets, now: datetime = NOW
) -> tuple[dict[str, Any], list[Any]]:
    found = await reconcile_body(body, secrets, now)
    return found.status.model_dump(mode="json", exclude_none=True), list(found.events)


async def test_a_valid_inline_plan_is_planned_with_counts_and_critical_path() -> None:
    status, events = await report(run_body())

    planned = conditions(status)["Planned"]
    assert (planned["status"], planned["reason"]) == ("True", "InlinePlanResolved")
    assert planned["message"] == (
        "3 tasks in 2 epics resolve into 3 dependency levels; the critical path is 3 tasks, 6 minutes."
    )
    assert status["phase"] == "Pending"
    assert status["observedGeneration"] == 2
    assert status["tasks"]["total"] == 3
    assert status["tasks"]["pending"] == 3
    assert status["progress"] == "0/3"
    assert status["criticalPath"]["tasks"] == ["a", "b", "c"]
    assert [e.reason for e in events] == ["InlinePlanResolved", "NotFinished"]


def broken(change: Any) -> dict[str, Any]:
    body = run_body()
    change(body["spec"]["plan"])
    return body


CASES = {
    "cycle": (
        lambda p: p["epics"][0]["tasks"][0].update(dependsOn=["b"]),
        "CyclicPlan",
        "The plan's dependencies form a cycle: a -> b -> a.",
    ),
    "unknown dependency": (
        lambda p: p["epics"][0]["tasks"][1].update(dependsOn=["zz"]),
        "UnknownDependency",
        "Task 'b' depends on 'zz', which is not in the plan.",
    ),
    "unknown epic dependency": (
        lambda p: p["epics"][1].update(dependsOn=["nope"]),
        "UnknownEpicDependency",
        "Epic 'ui' depends on epic 'nope', which is not in the plan.",
    ),
    "duplicate task key": (
        lambda p: p["epics"][1]["tasks"].append({"key": "a", "title": "again"}),
        "DuplicateKey",
        "The plan is invalid: task key 'a' is used twice (epics[0].tasks[0] and epics[1].tasks[1]).",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_broken_plan_fails_the_run_with_one_sentence(case: str) -> None:
    change, reason, message = CASES[case]
    status, events = await report(broken(change))

    ready = conditions(status)["Ready"]
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", reason, message)
    assert conditions(status)["Planned"]["reason"] == reason
    assert status["phase"] == "Failed"
    assert [(e.type, e.reason) for e in events] == [("Warning", reason), ("Warning", reason)]


async def test_a_missing_secret_waits_and_names_the_field() -> None:
    body = run_body(agent={"credentialsSecret": {"name": "model", "key": "token"}})
    status, _ = await report(body, api_key_secret)
    ready = conditions(status)["Ready"]
    assert ready["reason"] == "MissingSecretKey"
    assert ready["message"] == "Secret 'model' named by agent.credentialsSecret has no key 'token'."
    assert status["phase"] == "Pending"

    body = run_body(repository={"url": "git://h/x.git", "credentialsSecret": {"name": "git"}})
    status, _ = await report(body, api_key_secret)
    assert conditions(status)["Ready"]["message"] == (
        "Secret 'git' named by repository.credentialsSecret does not exist."
    )


async def test_a_spec_the_models_cannot_read_is_a_condition_not_a_crash() -> None:
    body = run_body()
    body["spec"]["parallel"] = {"maxConcurrency": "many"}
    status, events = await report(body)
    ready = conditions(status)["Ready"]
    assert (ready["reason"], status["phase"]) == ("InvalidSpec", "Failed")
    assert ready["message"].startswith("The spec cannot be read at spec.parallel.maxConcurrency:")
    assert [e.reason for e in events] == ["InvalidSpec"]


async def test_a_second_pass_keeps_transition_times_and_posts_no_new_event() -> None:
    body = run_body()
    status, _ = await report(body)
    again = copy.deepcopy(body)
    again["status"] = status
    second, events = await report(again, now=LATER)
    assert events == []
    assert (
        conditions(second)["Planned"]["lastTransitionTime"]
        == conditions(status)["Planned"]["lastTransitionTime"]
    )


async def test_a_suspended_run_says_so() -> None:
    status, _ = await report(run_body(suspend=True))
    assert conditions(status)["Progressing"]["reason"] == "Suspended"


async def test_a_spec_text_is_to_be_planned_and_a_later_planned_condition_stands() -> None:
    body = run_body()
    del body["spec"]["plan"]
    body["spec"]["spec"] = {"text": "A notes app."}

    report = await reconcile_body(body, no_secrets, NOW)

    assert (report.planning, report.runnable) == (True, False)
    status = report.status.model_dump(mode="json", by_alias=True, exclude_none=True)
    planned = conditions(status)["Planned"]
    assert (planned["status"], planned["reason"]) == ("Unknown", "Planning")
    # what the operator's planning wrote later is not taken back by the next pass
    body["status"] = {
        **status,
        "conditions": [
            {**planned, "status": "True", "reason": "PlanGenerated", "message": "2 tasks."}
        ],
    }
    again = await reconcile_body(body, no_secrets, LATER)
    kept = conditions(again.status.model_dump(mode="json", by_alias=True))["Planned"]
    assert (kept["status"], kept["reason"]) == ("True", "PlanGenerated")
