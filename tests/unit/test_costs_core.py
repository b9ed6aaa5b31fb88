"""Pricing, complexity, model choice and the budget ledger (all pure)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.budget import (
    BudgetLedger,
    BudgetState,
    estimate_session_cost,
    forecast,
)
from yokeflow.core.complexity import analyze_complexity, tier_for_score
from yokeflow.core.model_choice import ModelPolicy, OutcomeStats, choose_model
from yokeflow.core.pricing import ModelTier, PriceTable, TokenCounts, cost_of
from yokeflow.core.task_brief import TaskBrief
from yokeflow.errors import BudgetExhaustedError

FIXTURE = Path(__file__).parent / "fixtures" / "transcript_failure_then_fix.jsonl"

SIMPLE = TaskBrief("docs-1", "Fix a typo in the README", "Rename one label.", estimate_minutes=2)
MEDIUM = TaskBrief(
    "api-1",
    "Add an endpoint listing orders",
    "Implement GET /orders in app/routes/orders.py returning JSON with pagination.",
    estimate_minutes=20,
    dependency_count=1,
)
HARD = TaskBrief(
    "core-1",
    "Design the distributed scheduler",
    "Architect a concurrent, fault-tolerant scheduling algorithm with transactions and locking "
    "across the entire codebase; integrate recovery and consistency checks into every service. "
    + "Detail. "
    * 60,
    files=tuple(f"src/sched/part{i}.py" for i in range(8)),
    estimate_minutes=240,
    dependency_count=4,
)


# -- pricing -----------------------------------------------------------------------------------


def test_default_prices_per_million_tokens() -> None:
    million_in = TokenCounts(input=1_000_000)
    million_out = TokenCounts(output=1_000_000)
    assert cost_of(million_in, "claude-haiku-4-5") == Decimal(1)
    assert cost_of(million_out, "claude-haiku-4-5") == Decimal(5)
    assert cost_of(million_in, "claude-sonnet-4-5") == Decimal(3)
    assert cost_of(million_out, "claude-sonnet-4-5") == Decimal(15)
    assert cost_of(million_in, "claude-opus-4-5") == Decimal(5)
    assert cost_of(million_out, "claude-opus-4-5") == Decimal(25)
    cache = TokenCounts(cache_creation=1_000_000, cache_read=1_000_000)
    assert cost_of(cache, "claude-sonnet-4-5") == Decimal("3.75") + Decimal("0.3")


def test_cost_matches_what_the_real_cli_reported() -> None:
    # The result line of the recorded session: the CLI priced its own usage.
    result = json.loads(FIXTURE.read_text(encoding="utf-8").splitlines()[-1])
    usage = result["usage"]
    counts = TokenCounts(
        input=usage["input_tokens"],
        output=usage["output_tokens"],
        cache_read=usage["cache_read_input_tokens"],
        cache_creation=usage["cache_creation_input_tokens"],
    )
    assert cost_of(counts, "claude-haiku-4-5") == Decimal(str(result["total_cost_usd"]))


def test_configured_ids_and_prices() -> None:
    table = PriceTable.from_config(
        model_ids={"opus": "my-opus"}, prices={"haiku": {"input": 0.5}}, cache_read_multiplier=0.2
    )
    assert table.model_id(ModelTier.OPUS) == "my-opus"
    assert table.tier_of("my-opus") is ModelTier.OPUS
    assert table.tier_of("claude-3-5-haiku-latest") is ModelTier.HAIKU
    assert table.tier_of("something-else") is ModelTier.SONNET
    assert cost_of(
        TokenCounts(input=1_000_000, output=1_000_000, cache_read=1_000_000),
        "claude-haiku-4-5",
        table,
    ) == Decimal("0.5") + 5 + Decimal("0.1")
    assert ModelTier.HAIKU.up() is ModelTier.SONNET
    assert ModelTier.OPUS.up() is ModelTier.OPUS
    assert ModelTier.HAIKU.down() is ModelTier.HAIKU


# -- complexity --------------------------------------------------------------------------------


def test_complexity_orders_tasks_and_explains_every_factor() -> None:
    simple, medium, hard = (analyze_complexity(t) for t in (SIMPLE, MEDIUM, HARD))
    assert simple.overall < medium.overall < hard.overall
    assert (simple.tier, medium.tier, hard.tier) == (
        ModelTier.HAIKU,
        ModelTier.SONNET,
        ModelTier.OPUS,
    )
    assert "routine: label, readme, rename, typo" in simple.reasoning_depth.explanation
    assert "needs thought" in hard.reasoning_depth.explanation
    assert "4 dependencies, 8 files" in hard.context_requirements.explanation
    assert medium.domain == "api"
    for c in (simple, medium, hard):
        for factor in (
            c.reasoning_depth,
            c.code_complexity,
            c.domain_specificity,
            c.context_requirements,
        ):
            assert 0.0 <= factor.score <= 1.0
            assert factor.explanation
    assert hard.explain().endswith("→ opus")


def test_tier_thresholds() -> None:
    assert tier_for_score(0.29) is ModelTier.HAIKU
    assert tier_for_score(0.30) is ModelTier.SONNET
    assert tier_for_score(0.60) is ModelTier.OPUS
    assert tier_for_score(0.5, haiku_below=0.6) is ModelTier.HAIKU


# -- model choice ------------------------------------------------------------------------------

POLICY = ModelPolicy()


def test_complexity_decides_without_other_rules() -> None:
    rec = choose_model(POLICY, analyze_complexity(SIMPLE))
    assert (rec.model, rec.source) == ("claude-haiku-4-5", "complexity")
    assert choose_model(POLICY, analyze_complexity(HARD)).model == "claude-opus-4-5"


def test_overrides_come_before_complexity() -> None:
    policy = ModelPolicy(
        task_type_overrides={"docs": "opus"}, priority_overrides={0: "claude-custom-haiku"}
    )
    rec = choose_model(policy, analyze_complexity(SIMPLE), task_type="docs", epic_priority=0)
    assert (rec.model, rec.tier, rec.source) == ("claude-opus-4-5", ModelTier.OPUS, "override")
    rec = choose_model(policy, analyze_complexity(HARD), task_type="other", epic_priority=0)
    assert (rec.model, rec.tier, rec.source) == ("claude-custom-haiku", ModelTier.HAIKU, "override")
    assert "epic priority 0" in rec.reason


def test_optimization_off_uses_the_default_model() -> None:
    rec = choose_model(
        ModelPolicy(optimization_enabled=False, default_model="m-sonnet"),
        analyze_complexity(HARD),
        budget=BudgetState.APPROACHING,
    )
    assert (rec.model, rec.source) == ("m-sonnet", "default")


def test_history_moves_a_tier_up_when_it_fails_and_down_when_the_cheaper_one_succeeds() -> None:
    medium = analyze_complexity(MEDIUM)
    bad = [OutcomeStats("claude-sonnet-4-5", "api", attempts=4, successes=1)]
    rec = choose_model(POLICY, medium, task_type="api", history=bad)
    assert (rec.tier, rec.source) == (ModelTier.OPUS, "history")
    assert "sonnet succeeded 1/4" in rec.reason
    good_cheap = [
        OutcomeStats("claude-haiku-4-5", "api", attempts=6, successes=6),
        OutcomeStats("claude-sonnet-4-5", "api", attempts=2, successes=2),
    ]
    assert choose_model(POLICY, medium, task_type="api", history=good_cheap).tier is ModelTier.HAIKU
    # other task types' history does not count, nor too few samples
    assert choose_model(POLICY, medium, task_type="db", history=bad).tier is ModelTier.SONNET
    few = [OutcomeStats("claude-sonnet-4-5", "api", attempts=2, successes=0)]
    assert choose_model(POLICY, medium, task_type="api", history=few).tier is ModelTier.SONNET


def test_a_retry_after_a_failed_cheaper_attempt_escalates() -> None:
    simple = analyze_complexity(SIMPLE)
    rec = choose_model(POLICY, simple, attempt=2, previous_model="claude-haiku-4-5")
    assert (rec.tier, rec.source) == (ModelTier.SONNET, "escalation")
    rec = choose_model(
        POLICY,
        simple,
        attempt=3,
        previous_model="claude-sonnet-4-5",
        budget=BudgetState.APPROACHING,
    )
    assert rec.tier is ModelTier.OPUS  # escalations are not downgraded
    assert (
        choose_model(POLICY, simple, attempt=2, previous_model="claude-opus-4-5").tier
        is ModelTier.HAIKU
    )
    # an override that failed escalates too
    policy = ModelPolicy(task_type_overrides={"docs": "haiku"})
    assert (
        choose_model(
            policy, simple, task_type="docs", attempt=2, previous_model="claude-haiku-4-5"
        ).tier
        is ModelTier.SONNET
    )


def test_budget_downgrades_when_approaching_and_names_the_cheapest_when_exhausted() -> None:
    hard = analyze_complexity(HARD)
    rec = choose_model(POLICY, hard, budget=BudgetState.APPROACHING)
    assert (rec.tier, rec.source) == (ModelTier.SONNET, "budget")
    override = ModelPolicy(task_type_overrides={"x": "opus"})
    assert (
        choose_model(override, hard, task_type="x", budget=BudgetState.APPROACHING).tier
        is ModelTier.OPUS
    )
    assert choose_model(POLICY, hard, budget=BudgetState.EXHAUSTED).tier is ModelTier.HAIKU


# -- budget ------------------------------------------------------------------------------------


def test_reserve_settle_release() -> None:
    ledger = BudgetLedger(limit=Decimal(1))
    ledger = ledger.reserve("a", Decimal("0.5")).reserve("b", Decimal("0.3"))
    assert ledger.state() is BudgetState.APPROACHING
    assert not ledger.can_start(Decimal("0.3"))
    with pytest.raises(BudgetExhaustedError, match=r"\$0\.8000 reserved by running agents"):
        ledger.reserve("c", Decimal("0.3"))
    ledger = ledger.settle("a", Decimal("0.2")).release("b")
    assert (ledger.spent, ledger.reserved, ledger.overrun) == (Decimal("0.2"), 0, 0)
    assert ledger.state() is BudgetState.OK
    assert ledger.state(next_estimate=Decimal("0.9")) is BudgetState.EXHAUSTED
    ledger = ledger.reserve("c", Decimal("0.1")).settle("c", Decimal("0.9"))
    assert ledger.overrun == Decimal("0.8")
    assert ledger.state() is BudgetState.EXHAUSTED
    unlimited = BudgetLedger(limit=None).reserve("a", Decimal(100))
    assert unlimited.can_start(Decimal(10**6))
    assert unlimited.state() is BudgetState.OK


ops = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "settle", "release"]),
        st.integers(0, 7),
        st.decimals(Decimal("0.01"), Decimal("2"), places=2),
        st.decimals(Decimal(0), Decimal("3"), places=2),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(limit=st.decimals(Decimal("0.5"), Decimal(5), places=2), steps=ops)
def test_interleaved_agents_never_overspend_beyond_their_overruns(
    limit: Decimal, steps: list[tuple[str, int, Decimal, Decimal]]
) -> None:
    ledger = BudgetLedger(limit=limit)
    for op, agent, estimate, actual in steps:
        key = f"agent-{agent}"
        if op == "reserve" and key not in ledger.reservations:
            if ledger.can_start(estimate):
                ledger = ledger.reserve(key, estimate)
            else:
                with pytest.raises(BudgetExhaustedError):
                    ledger.reserve(key, estimate)
        elif op == "settle" and key in ledger.reservations:
            ledger = ledger.settle(key, actual)
        elif op == "release":
            ledger = ledger.release(key)
        # the invariant: what is spent and reserved exceeds the limit only by what agents
        # cost beyond their own reservations
        assert ledger.spent + ledger.reserved <= limit + ledger.overrun


@settings(max_examples=200, deadline=None)
@given(limit=st.decimals(Decimal("0.5"), Decimal(5), places=2), steps=ops)
def test_agents_within_their_estimates_never_exceed_the_limit(
    limit: Decimal, steps: list[tuple[str, int, Decimal, Decimal]]
) -> None:
    ledger = BudgetLedger(limit=limit)
    for op, agent, estimate, actual in steps:
        key = f"agent-{agent}"
        if op == "reserve" and key not in ledger.reservations and ledger.can_start(estimate):
            ledger = ledger.reserve(key, estimate)
        elif op == "settle" and key in ledger.reservations:
            ledger = ledger.settle(key, min(actual, ledger.reservations[key]))
    assert ledger.spent <= limit
    assert ledger.overrun == 0


def test_estimates_and_forecast() -> None:
    typical = estimate_session_cost(ModelTier.HAIKU)
    assert (
        Decimal("0.1")
        < typical
        < estimate_session_cost(ModelTier.SONNET)
        < estimate_session_cost(ModelTier.OPUS)
    )
    measured = {ModelTier.SONNET: (4, Decimal("2.00"))}
    assert estimate_session_cost(ModelTier.SONNET, measured) == Decimal("0.5")
    f = forecast([ModelTier.OPUS, ModelTier.SONNET, ModelTier.SONNET, ModelTier.HAIKU], measured)
    assert [(t.tier, t.tasks, t.measured) for t in f.tiers] == [
        (ModelTier.HAIKU, 1, False),
        (ModelTier.SONNET, 2, True),
        (ModelTier.OPUS, 1, False),
    ]
    assert f.tasks == 4
    assert f.total == typical + Decimal(1) + estimate_session_cost(ModelTier.OPUS)
