"""A model pinned on a task in the plan: parsed, refused when unknown, and chosen over every rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from yokeflow.api.v1alpha1 import InlinePlan, ModelsSpec
from yokeflow.core.budget import BudgetState
from yokeflow.core.complexity import analyze_complexity
from yokeflow.core.model_choice import ModelPolicy, choose_model
from yokeflow.core.plan import parse_plan
from yokeflow.core.pricing import DEFAULT_MODEL_IDS, ModelTier, PriceTable, pinned_model
from yokeflow.core.records import Task
from yokeflow.core.run_view import task_lines
from yokeflow.core.task_brief import TaskBrief, brief_of
from yokeflow.errors import PlanError
from yokeflow.services.cluster_execution import SpecModels
from yokeflow.services.costs import ModelSelector
from yokeflow.settings import CostSettings
from yokeflow.specs.inline_plan import to_plan
from yokeflow.testing.fake_learning import InMemoryLearningStore
from yokeflow.testing.fake_store import FakeStore


def plan_with(model: str, source: str = "plan.yaml") -> str:
    if source.endswith(".json"):
        return (
            '{"name": "x", "epics": [{"key": "e", "name": "E", "tasks": '
            f'[{{"key": "a", "title": "A"}}, {{"key": "b", "title": "B", "model": {model}}}]}}]}}'
        )
    return (
        "name: x\nepics:\n  - key: e\n    name: E\n    tasks:\n"
        f"      - {{key: a, title: A}}\n      - key: b\n        title: B\n        model: {model}\n"
    )


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("opus", "opus"),
        ("Haiku", "haiku"),
        ("' sonnet '", "sonnet"),
        ("claude-opus-4-5", "claude-opus-4-5"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022"),
        ("us.anthropic.claude-sonnet-4-5-v1:0", "us.anthropic.claude-sonnet-4-5-v1:0"),
    ],
)
def test_a_tier_or_a_claude_model_id_is_pinned(written: str, stored: str) -> None:
    tasks = [t for _, t in parse_plan(plan_with(written), "plan.yaml").tasks()]
    assert [t.model for t in tasks] == [None, stored]


def test_a_json_plan_pins_too() -> None:
    tasks = [t for _, t in parse_plan(plan_with('"opus"', "p.json"), "p.json").tasks()]
    assert [t.model for t in tasks] == [None, "opus"]


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("gpt-4", "model 'gpt-4'"),
        ("opuss", "model 'opuss'"),
        ("claude-next", "model 'claude-next'"),
        ("'claude opus'", "model 'claude opus'"),
        ("''", "model ''"),
    ],
)
def test_an_unknown_model_is_refused_naming_the_task_and_the_value(
    written: str, shown: str
) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(plan_with(written), "plan.yaml")
    message = str(info.value)
    assert message.startswith("plan.yaml: line 9 (epics[0].tasks[1].model): task 'b': ")
    assert shown in message
    assert "neither a tier (haiku, sonnet, opus) nor a Claude model id" in message
    assert "\n" not in message


@pytest.mark.parametrize("written", ["5", "[opus]", "{tier: opus}", "null"])
def test_a_model_that_is_not_text_is_refused(written: str) -> None:
    if written == "null":  # an explicit null is no pin
        assert parse_plan(plan_with(written), "plan.yaml").tasks()[1][1].model is None
        return
    with pytest.raises(PlanError) as info:
        parse_plan(plan_with(written), "plan.yaml")
    assert "(epics[0].tasks[1].model)" in str(info.value)


def test_the_pure_check_says_what_is_accepted() -> None:
    assert pinned_model("OPUS") == "opus"
    with pytest.raises(ValueError, match="'gemini-pro' is neither"):
        pinned_model("gemini-pro")


SIMPLE = analyze_complexity(TaskBrief("docs", "Fix a typo in the README", estimate_minutes=2))
HARD = analyze_complexity(
    TaskBrief(
        "core",
        "Design the distributed scheduler",
        "Architect a concurrent, fault-tolerant scheduling algorithm with transactions. " * 20,
        files=tuple(f"src/s{i}.py" for i in range(8)),
        estimate_minutes=240,
        dependency_count=4,
    )
)


def test_a_pin_wins_over_complexity_overrides_and_optimization_off() -> None:
    assert choose_model(ModelPolicy(), SIMPLE).tier is ModelTier.HAIKU
    rec = choose_model(ModelPolicy(), SIMPLE, pinned_model="opus")
    assert (rec.model, rec.tier, rec.source) == ("claude-opus-4-5", ModelTier.OPUS, "pinned")
    assert rec.reason == "pinned on the task in the plan: opus"
    overridden = ModelPolicy(task_type_overrides={"docs": "sonnet"}, priority_overrides={0: "opus"})
    rec = choose_model(overridden, HARD, task_type="docs", epic_priority=0, pinned_model="haiku")
    assert rec.model == "claude-haiku-4-5"
    off = ModelPolicy(optimization_enabled=False, default_model="claude-sonnet-4-5")
    assert choose_model(off, SIMPLE, pinned_model="claude-opus-4-1").model == "claude-opus-4-1"


def test_every_attempt_keeps_the_pin_whatever_the_budget() -> None:
    for attempt, previous in ((1, None), (2, "claude-haiku-4-5"), (3, "claude-haiku-4-5")):
        rec = choose_model(
            ModelPolicy(), HARD, attempt=attempt, previous_model=previous, pinned_model="haiku"
        )
        assert (rec.model, rec.source) == ("claude-haiku-4-5", "pinned")
    rec = choose_model(ModelPolicy(), HARD, budget=BudgetState.APPROACHING, pinned_model="opus")
    assert rec.model == "claude-opus-4-5"
    # Unpinned, the same retry escalates and the same budget moves down: the pin is what held.
    retry = choose_model(ModelPolicy(), SIMPLE, attempt=2, previous_model="claude-haiku-4-5")
    assert retry.tier is not ModelTier.HAIKU
    assert choose_model(ModelPolicy(), HARD, budget=BudgetState.APPROACHING).tier is not (
        ModelTier.OPUS
    )


def test_a_pinned_tier_is_the_settings_model_id_of_that_tier() -> None:
    prices = PriceTable(model_ids={**DEFAULT_MODEL_IDS, ModelTier.OPUS: "claude-opus-4-1"})
    rec = choose_model(ModelPolicy(prices=prices), SIMPLE, pinned_model="opus")
    assert rec.model == "claude-opus-4-1"


async def test_the_selector_reads_the_pin_of_a_stored_task() -> None:
    store = FakeStore()
    stored = await store.create_plan(parse_plan(plan_with("opus"), "plan.yaml"))
    tasks = {t.key: t for t in await store.list_tasks(stored.project.id)}
    assert (tasks["a"].pinned_model, tasks["b"].pinned_model) == (None, "opus")
    selector = ModelSelector(InMemoryLearningStore(store), CostSettings())
    chosen = await selector.choose(brief_of(tasks["b"]), attempt=2, previous_model="x-opus")
    assert chosen.model == "claude-opus-4-5"
    assert (await selector.choose(brief_of(tasks["a"]))).source != "pinned"
    added = await store.create_task(
        stored.project.id, tasks["a"].epic_id, "c", "C", pinned_model="claude-haiku-4-5"
    )
    assert added.pinned_model == "claude-haiku-4-5"


async def test_the_cluster_choice_honours_the_pin_over_the_task_type() -> None:
    models = SpecModels(
        ModelsSpec(by_task_type={"docs": "sonnet"}, default="haiku"),
        default="claude-sonnet-4-5",
        tiers={t.value: DEFAULT_MODEL_IDS[t] for t in ModelTier},
    )
    task = Task(1, 1, 1, "t", "T", task_type="docs", pinned_model="opus")
    assert await models.model_for(task, attempt=1, escalate=False) == "claude-opus-4-5"
    unpinned = Task(2, 1, 1, "u", "U", task_type="docs")
    assert await models.model_for(unpinned, attempt=1, escalate=False) == "claude-sonnet-4-5"


def _inline(model: object) -> dict[str, object]:
    task = {"key": "t", "title": "T", "model": model}
    return {"name": "x", "epics": [{"key": "e", "name": "E", "tasks": [task]}]}


def test_an_inline_plan_carries_the_pin_and_refuses_an_unknown_model() -> None:
    plan = to_plan(InlinePlan.model_validate(_inline("opus")))
    assert plan.tasks()[0][1].model == "opus"
    with pytest.raises(PlanError, match="task 't': model 'gpt-4' is neither"):
        to_plan(InlinePlan.model_validate(_inline("gpt-4")))
    with pytest.raises(ValidationError):
        InlinePlan.model_validate(_inline("has spaces"))


def test_status_lines_carry_the_pin() -> None:
    from datetime import UTC, datetime

    task = Task(1, 1, 1, "t", "T", pinned_model="opus")
    (line,) = task_lines([task], [], [], [], datetime.now(UTC))
    assert line.to_dict()["pinned_model"] == "opus"
