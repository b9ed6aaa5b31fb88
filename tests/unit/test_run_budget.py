"""The run's shared budget under concurrent agents (asyncio tasks interleaving at random)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.budget import BudgetState
from yokeflow.services.costs import RunBudget

agents = st.lists(
    st.tuples(
        st.decimals(Decimal("0.05"), Decimal("1"), places=2),  # estimate
        st.decimals(Decimal(0), Decimal("1.5"), places=2),  # actual
        st.integers(0, 3),  # yields before reserving
        st.integers(0, 3),  # yields while running
    ),
    min_size=1,
    max_size=25,
)


async def run_agents(
    budget: RunBudget, specs: list[tuple[Decimal, Decimal, int, int]]
) -> list[bool]:
    peak: list[Decimal] = []

    async def agent(i: int, estimate: Decimal, actual: Decimal, before: int, during: int) -> bool:
        for _ in range(before):
            await asyncio.sleep(0)
        if not await budget.try_reserve(f"a{i}", estimate):
            return False
        for _ in range(during):
            await asyncio.sleep(0)
        await budget.settle(f"a{i}", actual)
        peak.append(budget.ledger.committed)
        return True

    return await asyncio.gather(*(agent(i, *spec) for i, spec in enumerate(specs)))


@settings(max_examples=150, deadline=None)
@given(limit=st.decimals(Decimal("0.5"), Decimal(4), places=2), specs=agents)
def test_concurrent_agents_overspend_only_by_their_own_overruns(
    limit: Decimal, specs: list[tuple[Decimal, Decimal, int, int]]
) -> None:
    budget = RunBudget(limit)
    started = asyncio.run(run_agents(budget, specs))
    ledger = budget.ledger
    assert ledger.reserved == 0
    ran = [spec for spec, ok in zip(specs, started, strict=True) if ok]
    assert ledger.spent == sum((actual for _, actual, _, _ in ran), Decimal(0))
    overrun = sum((max(Decimal(0), a - e) for e, a, _, _ in ran), Decimal(0))
    assert ledger.overrun == overrun
    assert ledger.spent <= limit + overrun
    # when every agent stays within its estimate, the limit itself holds
    capped = [(e, min(a, e), b, d) for e, a, b, d in specs]
    budget = RunBudget(limit)
    asyncio.run(run_agents(budget, capped))
    assert budget.ledger.spent <= limit


def test_launching_stops_at_the_limit_and_the_message_is_clear() -> None:
    async def scenario() -> RunBudget:
        budget = RunBudget(Decimal(1), approaching_fraction=0.5)
        assert await budget.try_reserve("a", Decimal("0.4"))
        assert budget.state() is BudgetState.OK
        assert await budget.try_reserve("b", Decimal("0.4"))
        assert budget.state() is BudgetState.APPROACHING
        assert not await budget.try_reserve("c", Decimal("0.4"))
        await budget.settle("a", Decimal("0.5"))
        await budget.release("b")
        assert budget.state(next_estimate=Decimal("0.6")) is BudgetState.EXHAUSTED
        return budget

    budget = asyncio.run(scenario())
    message = str(budget.exhausted_error(Decimal("0.6")))
    assert message == (
        "budget exhausted: $0.5000 spent of $1.00 (overrun by running agents $0.1000);"
        " the next task needs ~$0.6000; no more agents were started"
    )
