"""A session's cost is recorded once, however often it is reported: a runner repeating its report
after an answer it never got (the task manager crashed between recording and answering), two
reports racing, the operator recording what a Job's termination message names after the runner
already did. Real PostgreSQL, the real task manager over HTTP."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.session_reports import HttpSessionReports
from yokeflow.core.records import ProjectPlan

from .conftest import TokenFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("pg_server", ["pg15"], indirect=True),
    pytest.mark.timeout(120),
]


async def test_a_session_cost_reported_again_and_again_is_recorded_once(
    mcp_http: str, token_for: TokenFactory, store: PostgresStore, todo: ProjectPlan
) -> None:
    pid, task = todo.project.id, todo.task_ids["db-schema"]
    token = token_for(pid, task)
    reports = HttpSessionReports(f"{mcp_http}/mcp", {"Authorization": f"Bearer {token}"})
    try:
        opened = await reports.start_session(pid, task_id=task, model="claude-haiku-4-5")

        async def report() -> object:
            return await reports.record_agent_cost(
                pid, model="claude-haiku-4-5", cost_usd=Decimal("0.125"), session_id=opened.id,
                task_id=task, input_tokens=1000, output_tokens=100,
            )  # fmt: skip

        first = await report()
        again = await report()  # the runner lost the first answer and reports again
        racing = await asyncio.gather(*(report() for _ in range(4)))
    finally:
        await reports.aclose()
    # the operator, reading the Job's termination message, records the same session's cost
    direct = await store.record_agent_cost(
        pid, model="claude-haiku-4-5", cost_usd=Decimal("9"), session_id=opened.id, task_id=task
    )

    assert first == {"recorded": True}
    assert again == {"recorded": False}
    assert len(racing) == 4
    (row,) = await store.list_agent_costs(pid)
    assert (row.session_id, row.cost_usd, row.input_tokens) == (opened.id, Decimal("0.125"), 1000)
    assert direct.id == row.id  # the row that stands, not a second one
    assert await store.get_project_cost_total(pid) == Decimal("0.125")


async def test_costs_without_a_session_are_not_keyed(
    store: PostgresStore, todo: ProjectPlan
) -> None:
    pid = todo.project.id
    await store.record_agent_cost(pid, model="m", cost_usd=1, operation="merge")
    await store.record_agent_cost(pid, model="m", cost_usd=1, operation="merge")
    assert await store.get_project_cost_total(pid) == Decimal(2)
