"""The runner's reports to the task manager wait out a task manager that is briefly away (an
operator restart): a refused connection is tried again until the patience runs out; a request
that may have arrived is never repeated, unless the server applies it once (a cost report)."""

from __future__ import annotations

import httpx
import pytest

from yokeflow.adapters.session_reports import HttpSessionReports
from yokeflow.errors import TaskManagerUnavailableError

SCOPE = {"project_id": 7, "project": "demo", "task_id": 3, "task": "api"}


class Flaky:
    """Refuses the first ``refusals`` connections, then answers the scope; counts requests."""

    def __init__(self, refusals: int, error: type[httpx.TransportError] = httpx.ConnectError):
        self.refusals = refusals
        self.error = error
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests <= self.refusals:
            raise self.error("connection refused", request=request)
        return httpx.Response(200, json=SCOPE)


async def test_refused_connections_are_tried_again_until_the_server_is_back() -> None:
    server = Flaky(refusals=2)
    reports = HttpSessionReports("http://task-manager", {}, transport=httpx.MockTransport(server))
    try:
        scope = await reports.scope()
    finally:
        await reports.aclose()
    assert (scope.project_id, scope.task) == (7, "api")
    assert server.requests == 3


async def test_past_its_patience_a_refused_connection_is_unavailable() -> None:
    server = Flaky(refusals=1000)
    reports = HttpSessionReports(
        "http://task-manager",
        {},
        connect_patience_seconds=0.5,
        transport=httpx.MockTransport(server),
    )
    try:
        with pytest.raises(TaskManagerUnavailableError, match="connection refused"):
            await reports.scope()
    finally:
        await reports.aclose()
    assert 1 < server.requests < 10


async def test_a_request_that_may_have_arrived_is_never_repeated() -> None:
    server = Flaky(refusals=1, error=httpx.ReadTimeout)
    reports = HttpSessionReports("http://task-manager", {}, transport=httpx.MockTransport(server))
    try:
        with pytest.raises(TaskManagerUnavailableError):
            await reports.scope()
    finally:
        await reports.aclose()
    assert server.requests == 1


async def test_a_repeatable_report_is_sent_again_after_a_lost_answer() -> None:
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) == 1:
            raise httpx.ReadError("the answer was lost", request=request)
        return httpx.Response(200, json={"recorded": False})

    reports = HttpSessionReports("http://task-manager", {}, transport=httpx.MockTransport(server))
    try:
        answer = await reports.record_agent_cost(1, model="m", cost_usd=1, session_id=5)
    finally:
        await reports.aclose()
    assert answer == {"recorded": False}
    assert seen == ["/sessions/5/cost", "/sessions/5/cost"]
