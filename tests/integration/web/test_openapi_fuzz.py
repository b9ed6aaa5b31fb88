"""A bounded schemathesis run against the OpenAPI document finds no server error.

The API runs in a real uvicorn server (its own thread and event loop, a real database and
repository); schemathesis generates requests for every operation from the document.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.plan import Plan
from yokeflow.services.runs import create_from_plan
from yokeflow.settings import Settings
from yokeflow.testing.git_repos import make_repository
from yokeflow.web.app import build_app, create_app, local_deps

from .conftest import PLAN, TOKEN, workspace_opener

pytestmark = pytest.mark.postgres

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def served(pg_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The API on a free port, over a migrated database holding one project."""
    import uvicorn

    ready = threading.Event()
    state: dict[str, object] = {}

    async def main() -> None:
        repo = make_repository(tmp_path / "repo", {"README.md": "x\n"})
        async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=10) as store:
            await create_from_plan(store, Plan.model_validate(PLAN), repo)
            deps = local_deps(
                store, Settings(), TOKEN, workspaces=workspace_opener(store), static_dir=None
            )
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(deps), host="127.0.0.1", port=0, log_level="error", lifespan="off"
                )
            )
            state["server"] = server
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
                await asyncio.sleep(0.02)
            state["port"] = server.servers[0].sockets[0].getsockname()[1]
            ready.set()
            await task

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(60), "the API did not start"
    yield f"http://127.0.0.1:{state['port']}"
    server = state["server"]
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(30)


def test_no_operation_answers_with_a_server_error(served: str) -> None:
    schema = schemathesis.openapi.from_dict(build_app().openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 36
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            nonlocal calls
            response = case.call(base_url=served, headers={"Authorization": f"Bearer {TOKEN}"})
            calls += 1
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            case.validate_response(response, checks=[not_a_server_error])

        call()
    assert calls >= len(operations)
