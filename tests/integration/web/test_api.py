"""Every API route through httpx's ASGI transport, on a real database and a real repository."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from yokeflow.core.records import TaskStatus
from yokeflow.ports.workspace import TaskRef
from yokeflow.testing.git_repos import commit_file, git
from yokeflow.web.app import build_app

from .conftest import PLAN, Api, workspace_opener

pytestmark = pytest.mark.postgres

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    assert "Traceback" not in body["detail"]
    return body


async def _task(api: Api, key: str) -> dict[str, Any]:
    tasks = (await api.client.get(f"/api/projects/{api.project.id}/tasks")).json()
    return next(t for t in tasks if t["key"] == key)


async def test_every_route_but_health_needs_the_token(api: Api) -> None:
    document = build_app().openapi()
    checked = 0
    for path, operations in document["paths"].items():
        concrete = re.sub(r"\{[a-z_]+\}", "1", path).replace("/expertise/1", "/expertise/api")
        for method in operations:
            response = await api.client.request(method, concrete, headers={"Authorization": ""})
            if path in ("/healthz", "/readyz"):
                assert response.status_code == 200, (method, path)
                continue
            body = _problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "token" in body["detail"]
            checked += 1
    assert checked >= 35
    wrong = await api.client.get("/api/projects", headers={"Authorization": "Bearer nope"})
    _problem(wrong, 401)


async def test_health_and_metrics(api: Api) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://api.test"
    ) as anonymous:
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
        ready = (await anonymous.get("/readyz")).json()
        assert ready["status"] == "ready"
        assert ready["projects"] == 1
    metrics = await api.client.get("/metrics")
    assert metrics.status_code == 200
    assert 'yokeflow_tasks{status="pending"} 3.0' in metrics.text
    assert "yokeflow_projects 1.0" in metrics.text
    assert "db-schema" not in metrics.text  # never task keys as labels


async def test_projects(api: Api, tmp_path: Path) -> None:
    listed = (await api.client.get("/api/projects")).json()
    assert [p["name"] for p in listed] == ["shop"]
    assert listed[0]["status"]["tasks"]["pending"] == 3
    one = (await api.client.get(f"/api/projects/{api.project.id}")).json()
    assert one["metadata"]["repository"] == str(api.repo)
    # 3 min for db-schema, then db-seed and api-list (1 min each) side by side
    assert one["status"]["eta_seconds"] == pytest.approx(240.0)
    assert one["status"]["active"] is False
    assert one["status"]["cost_usd"] == "0"
    _problem(await api.client.get("/api/projects/999999"), 404)
    _problem(await api.client.get("/api/projects/abc"), 422)
    _problem(await api.client.get("/api/projects/0"), 422)
    _problem(await api.client.get("/api/projects/99999999999"), 422)

    plan = {**PLAN, "name": "shop-2"}
    created = await api.client.post(
        "/api/projects", json={"plan": plan, "repository": str(api.repo)}
    )
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    again = await api.client.post("/api/projects", json={"plan": plan, "repository": str(api.repo)})
    assert "already exists" in _problem(again, 409)["detail"]
    not_git = await api.client.post(
        "/api/projects", json={"plan": {**plan, "name": "x"}, "repository": str(tmp_path)}
    )
    assert "not a git repository" in _problem(not_git, 400)["detail"]
    cyclic = {
        "name": "cyclic",
        "epics": [{"key": "e", "name": "E", "tasks": [
            {"key": "a", "title": "A", "depends_on": ["b"]},
            {"key": "b", "title": "B", "depends_on": ["a"]},
        ]}],
    }  # fmt: skip
    bad_plan = await api.client.post(
        "/api/projects", json={"plan": cyclic, "repository": str(api.repo)}
    )
    assert "cycle" in _problem(bad_plan, 422)["detail"]
    invalid = _problem(await api.client.post("/api/projects", json={"plan": {}}), 422)
    assert invalid["errors"]
    assert invalid["detail"].endswith(".")

    assert (await api.client.delete(f"/api/projects/{new_id}")).status_code == 204
    _problem(await api.client.get(f"/api/projects/{new_id}"), 404)
    _problem(await api.client.delete(f"/api/projects/{new_id}"), 404)


async def test_tasks_retry_and_cancel(api: Api) -> None:
    pid = api.project.id
    epics = (await api.client.get(f"/api/projects/{pid}/epics")).json()
    assert [e["key"] for e in epics] == ["db", "api"]
    tasks = (await api.client.get(f"/api/projects/{pid}/tasks")).json()
    assert [(t["key"], t["state"]) for t in tasks] == [
        ("db-schema", "queued"), ("db-seed", "pending"), ("api-list", "pending"),
    ]  # fmt: skip
    schema = tasks[0]
    await api.store.update_task_status(schema["id"], TaskStatus.RUNNING)
    await api.store.update_task_status(schema["id"], TaskStatus.FAILED, error="tests failed")
    failed = (await api.client.get(f"/api/projects/{pid}/tasks?status=failed")).json()
    assert [(t["key"], t["last_error"]) for t in failed] == [("db-schema", "tests failed")]
    one = (await api.client.get(f"/api/projects/{pid}/tasks/{schema['id']}")).json()
    assert one["state"] == "failed"
    assert one["sessions"] == []

    retried = await api.client.post(f"/api/projects/{pid}/tasks/{schema['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert retried.json()["run_started"] is False
    again = await api.client.post(f"/api/projects/{pid}/tasks/{schema['id']}/retry")
    assert "can be retried" in _problem(again, 409)["detail"]
    cancelled = await api.client.post(f"/api/projects/{pid}/tasks/{schema['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert (await _task(api, "db-schema"))["state"] == "cancelled"
    _problem(await api.client.get(f"/api/projects/{pid}/tasks?status=bogus"), 422)
    _problem(await api.client.get(f"/api/projects/{pid}/tasks/999999"), 404)
    _problem(await api.client.post(f"/api/projects/{pid}/tasks/999999/retry"), 404)
    _problem(await api.client.get("/api/projects/999999/tasks"), 404)


async def test_dependencies(api: Api) -> None:
    pid = api.project.id
    graph = (await api.client.get(f"/api/projects/{pid}/dependencies")).json()
    assert [sorted(b) for b in graph["batches"]] == [["db-schema"], ["api-list", "db-seed"]]
    assert {t["key"]: t["depends_on"] for t in graph["tasks"]}["api-list"] == ["db-schema"]
    batches = (await api.client.get(f"/api/projects/{pid}/dependencies/batches")).json()
    assert batches["batches"][0] == ["db-schema"]
    path = (await api.client.get(f"/api/projects/{pid}/dependencies/critical-path")).json()
    assert path["critical_path"][0] == "db-schema"
    assert path["length_minutes"] == 4.0
    valid = (await api.client.get(f"/api/projects/{pid}/dependencies/validate")).json()
    assert valid == {"valid": True, "problems": [], "cycles": [], "missing": [], "blocked": []}

    seed = await _task(api, "db-seed")
    schema = await _task(api, "db-schema")
    changed = await api.client.post(
        f"/api/projects/{pid}/tasks/{seed['id']}/dependencies",
        json={"depends_on": ["db-schema", "api-list"]},
    )
    assert changed.status_code == 200, changed.text
    assert sorted(changed.json()["depends_on"]) == sorted(
        [schema["id"], (await _task(api, "api-list"))["id"]]
    )
    graph = (await api.client.get(f"/api/projects/{pid}/dependencies")).json()
    assert graph["batches"] == [["db-schema"], ["api-list"], ["db-seed"]]
    cycle = await api.client.post(
        f"/api/projects/{pid}/tasks/{schema['id']}/dependencies", json={"depends_on": [seed["id"]]}
    )
    assert "cycle" in cycle.json()["detail"]
    assert cycle.status_code in (409, 422)
    unknown = await api.client.post(
        f"/api/projects/{pid}/tasks/{seed['id']}/dependencies", json={"depends_on": ["nope"]}
    )
    _problem(unknown, 404)
    _problem(
        await api.client.post(
            f"/api/projects/{pid}/tasks/{seed['id']}/dependencies", json={"depends_on": [{}]}
        ),
        422,
    )


async def _finish_with_work(api: Api, key: str, files: dict[str, str]) -> dict[str, Any]:
    """Run a task by hand: a real worktree, a commit in it, the task done (not merged)."""
    task = await _task(api, key)
    workspace = await workspace_opener(api.store)(api.project)
    await workspace.initialize()
    tree = await workspace.create_worktree(TaskRef(task["id"], task["title"], task["epic_id"]))
    for name, text in files.items():
        commit_file(Path(tree.path), name, text, f"{key}: {name}")
    await api.store.update_task_status(task["id"], TaskStatus.RUNNING)
    await api.store.complete_task(task["id"])
    return task


async def test_worktrees_diff_merge_conflict_resolve(api: Api) -> None:
    pid = api.project.id
    schema = await _finish_with_work(api, "db-schema", {"schema.sql": "CREATE TABLE item;\n"})
    assert (await _task(api, "db-schema"))["state"] == "merging"
    trees = (await api.client.get(f"/api/projects/{pid}/worktrees")).json()
    assert [(t["task_id"], t["status"]) for t in trees] == [(schema["id"], "active")]
    diff = (await api.client.get(f"/api/projects/{pid}/tasks/{schema['id']}/diff")).json()
    assert "+CREATE TABLE item;" in diff["diff"]
    assert diff["status"] == "active"
    epic = schema["epic_id"]
    by_epic = (await api.client.get(f"/api/projects/{pid}/worktrees/{epic}")).json()
    assert [t["branch"] for t in by_epic] == [trees[0]["branch"]]

    merged = (await api.client.post(f"/api/projects/{pid}/worktrees/{epic}/merge")).json()
    assert [m["status"] for m in merged] == ["merged"]
    assert (await _task(api, "db-schema"))["state"] == "merged"
    assert "schema.sql" in git(api.repo, "ls-tree", "--name-only", "yokeflow/integration")
    landed = (await api.client.get(f"/api/projects/{pid}/tasks/{schema['id']}/diff")).json()
    assert "+CREATE TABLE item;" in landed["diff"]
    assert landed["status"] == "merged"
    assert "README" not in landed["diff"]

    # Two tasks of two epics write one file: the second merge conflicts; theirs resolves it.
    seed = await _finish_with_work(api, "db-seed", {"data.txt": "seed\n"})
    listing = await _finish_with_work(api, "api-list", {"data.txt": "list\n"})
    assert [
        m["status"]
        for m in (
            await api.client.post(f"/api/projects/{pid}/worktrees/{seed['epic_id']}/merge")
        ).json()
    ] == ["merged"]
    api_epic = listing["epic_id"]
    result = (await api.client.post(f"/api/projects/{pid}/worktrees/{api_epic}/merge")).json()
    assert [m["status"] for m in result] == ["conflict"]
    assert (await _task(api, "api-list"))["state"] == "conflict"
    conflicts = (await api.client.get(f"/api/projects/{pid}/worktrees/{api_epic}/conflicts")).json()
    assert [[f["path"] for f in c["files"]] for c in conflicts] == [["data.txt"]]
    bad = await api.client.post(
        f"/api/projects/{pid}/worktrees/{api_epic}/resolve", json={"strategy": "both"}
    )
    _problem(bad, 422)
    resolved = await api.client.post(
        f"/api/projects/{pid}/worktrees/{api_epic}/resolve", json={"strategy": "theirs"}
    )
    assert [m["status"] for m in resolved.json()] == ["merged"], resolved.text
    assert git(api.repo, "show", "yokeflow/integration:data.txt") == "list"
    nothing = await api.client.post(
        f"/api/projects/{pid}/worktrees/{api_epic}/resolve", json={"strategy": "ours"}
    )
    _problem(nothing, 409)
    removed = (await api.client.delete(f"/api/projects/{pid}/worktrees/{api_epic}")).json()
    assert removed == {"removed": 1}
    _problem(await api.client.get(f"/api/projects/{pid}/worktrees/999999"), 404)


@pytest.mark.agent
async def test_worktrees_resolve_with_the_conflict_agent(api: Api) -> None:
    """``agent`` runs the run's resolution session (the real CLI against the scripted model)."""
    pid = api.project.id
    await _finish_with_work(api, "db-schema", {"schema.sql": "CREATE TABLE item;\n"})
    seed = await _finish_with_work(api, "db-seed", {"data.txt": "seed\n"})
    listing = await _finish_with_work(api, "api-list", {"data.txt": "list\n"})
    for epic in (seed["epic_id"], listing["epic_id"]):
        await api.client.post(f"/api/projects/{pid}/worktrees/{epic}/merge")
    assert (await _task(api, "api-list"))["state"] == "conflict"
    resolved = await api.client.post(
        f"/api/projects/{pid}/worktrees/{listing['epic_id']}/resolve", json={"strategy": "agent"}
    )
    assert [m["status"] for m in resolved.json()] == ["merged"], resolved.text
    assert (await _task(api, "api-list"))["state"] == "merged"
    assert git(api.repo, "show", "yokeflow/integration:data.txt") == "seed\nlist"
    costs = await api.store.pool.fetch(
        "SELECT operation, task_id FROM agent_costs WHERE project_id = $1", pid
    )
    assert [(c["operation"], c["task_id"]) for c in costs] == [("merge", listing["id"])]


async def test_sessions_and_transcripts(api: Api, tmp_path: Path) -> None:
    pid = api.project.id
    task = await _task(api, "db-schema")
    log = tmp_path / "session.jsonl"
    log.write_text(
        "".join(json.dumps({"type": "AssistantMessage", "n": i}) + "\n" for i in range(5))
        + '{"type": "half-writ',
        encoding="utf-8",
    )
    session = await api.store.start_session(
        pid, task_id=task["id"], model="claude-haiku-4-5", log_path=str(log)
    )
    listed = (await api.client.get(f"/api/projects/{pid}/sessions?task_id={task['id']}")).json()
    assert [s["id"] for s in listed] == [session.id]
    page = (
        await api.client.get(
            f"/api/projects/{pid}/sessions/{session.id}/transcript?offset=1&limit=3"
        )
    ).json()
    assert [m["n"] for m in page["messages"]] == [1, 2, 3]
    assert page["total"] == 5
    tail = (
        await api.client.get(f"/api/projects/{pid}/sessions/{session.id}/transcript?offset=4")
    ).json()
    assert [m["n"] for m in tail["messages"]] == [4]
    past = (
        await api.client.get(f"/api/projects/{pid}/sessions/{session.id}/transcript?offset=50")
    ).json()
    assert past["messages"] == []
    assert past["total"] == 5
    _problem(
        await api.client.get(f"/api/projects/{pid}/sessions/{session.id}/transcript?limit=0"), 422
    )
    _problem(await api.client.get(f"/api/projects/{pid}/sessions/999999/transcript"), 404)
    log.unlink()
    _problem(await api.client.get(f"/api/projects/{pid}/sessions/{session.id}/transcript"), 404)
    detail = (await api.client.get(f"/api/projects/{pid}/tasks/{task['id']}")).json()
    assert [s["model"] for s in detail["sessions"]] == ["claude-haiku-4-5"]


async def test_parallel_routes(api: Api) -> None:
    pid = api.project.id
    schema = await _task(api, "db-schema")
    await api.store.create_parallel_batch(pid, 1, [schema["id"]])
    status = (await api.client.get(f"/api/projects/{pid}/parallel/status")).json()
    assert status["batches"] == 1
    assert status["progress"][0]["total"] == 1
    batches = (await api.client.get(f"/api/projects/{pid}/parallel/batches")).json()
    assert [b["batch_number"] for b in batches] == [1]
    one = (await api.client.get(f"/api/projects/{pid}/parallel/batches/1")).json()
    assert [t["key"] for t in one["tasks"]] == ["db-schema"]
    _problem(await api.client.get(f"/api/projects/{pid}/parallel/batches/2"), 404)
    # This API was built without run control: starting is refused with a sentence.
    assert (
        "does not start runs"
        in _problem(await api.client.post(f"/api/projects/{pid}/parallel/start"), 400)["detail"]
    )
    cancel = (await api.client.post(f"/api/projects/{pid}/parallel/cancel")).json()
    assert cancel == {"project_id": pid, "cancel_requested": True, "active_here": False}
    assert (await api.client.get(f"/api/projects/{pid}")).json()["status"][
        "cancel_requested"
    ] is True
    _problem(await api.client.post("/api/projects/999999/parallel/cancel"), 404)


async def test_expertise(api: Api) -> None:
    pid = api.project.id
    empty = (await api.client.get(f"/api/projects/{pid}/expertise")).json()
    assert empty["domains"] == []
    assert "database" in empty["known_domains"]
    markdown = (
        "# Database expertise\n\n## Techniques\n- Use one transaction per claim\n"
        "\n## Core files\n- README.md\n- gone.sql\n"
    )
    saved = await api.client.put(
        f"/api/projects/{pid}/expertise/database", json={"markdown": markdown}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    got = (await api.client.get(f"/api/projects/{pid}/expertise/database")).json()
    assert "Use one transaction per claim" in got["markdown"]
    assert {lesson["text"] for lesson in got["lessons"]} >= {
        "Use one transaction per claim",
        "README.md",
    }
    assert (api.repo / ".yokeflow/expertise/database.md").is_file()
    validated = (await api.client.post(f"/api/projects/{pid}/expertise/database/validate")).json()
    assert "1 missing core files removed" in validated["summary"]
    assert validated["version"] == 2
    improved = (await api.client.post(f"/api/projects/{pid}/expertise/database/improve")).json()
    assert improved["summary"].startswith("self-improve")
    history = (await api.client.get(f"/api/projects/{pid}/expertise/database/history")).json()
    assert [h["change_type"] for h in history][:2] == ["edit", "validate"]
    listed = (await api.client.get(f"/api/projects/{pid}/expertise")).json()["domains"]
    assert [d["domain"] for d in listed] == ["database"]
    assert (
        "unknown domain"
        in _problem(await api.client.get(f"/api/projects/{pid}/expertise/cooking"), 404)["detail"]
    )
    _problem(await api.client.put(f"/api/projects/{pid}/expertise/database", json={}), 422)


async def test_costs(api: Api) -> None:
    pid = api.project.id
    task = await _task(api, "db-schema")
    await api.store.record_agent_cost(
        pid, model="claude-haiku-4-5", cost_usd=Decimal("0.0125"), task_id=task["id"],
        input_tokens=1000, output_tokens=50,
    )  # fmt: skip
    costs = (await api.client.get(f"/api/projects/{pid}/costs")).json()
    assert Decimal(costs["total_usd"]) == Decimal("0.0125")  # exact: a string, never a float
    assert [(m["model"], Decimal(m["cost_usd"])) for m in costs["by_model"]] == [
        ("claude-haiku-4-5", Decimal("0.0125"))
    ]
    forecast = (await api.client.get(f"/api/projects/{pid}/costs/forecast")).json()
    assert forecast["remaining_tasks"] == 3
    assert float(forecast["total_usd"]) > 0
    stats = (await api.client.get(f"/api/projects/{pid}/model-stats")).json()
    assert stats["by_model"][0]["input_tokens"] == 1000
    assert Decimal((await _task(api, "db-schema"))["cost_usd"]) == Decimal("0.0125")
    _problem(await api.client.get("/api/projects/999999/costs"), 404)
