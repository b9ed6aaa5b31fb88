"""The dashboard in a real browser during a real offline run (the demo's plan and scenario).

`yokeflow run --serve` runs the demo's plan with the real Claude Code CLI against the scripted
model server, real git worktrees and merges, on a real PostgreSQL; Debian's Chromium, driven by
Playwright, watches a task go from running to merged without a reload, reads a transcript and a
diff, retries a task that failed (the model answered it with an error) and sees it merge, and
edits an expertise note. Screenshots are kept in pytest's temporary folder (``screenshots/``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.local.demo import make_sample_repository
from yokeflow.local.demo_files import demo_dir
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)

from .browser import chromium

pytestmark = [pytest.mark.agent, pytest.mark.postgres]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
TOKEN = "dashboard-test-token-0123456789"
FAILING = "query-sort"
SLOW = "core-model"


@pytest.fixture(scope="session")
def pg_migrate():  # type: ignore[no-untyped-def]
    from yokeflow.adapters.postgres import migrate

    return migrate


def _scenario(fail: bool) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((demo_dir() / "scenario.yaml").read_text())
    rules = data["rules"]
    assert isinstance(rules, list)
    for rule in rules:
        if rule.get("task") == SLOW:
            rule["delay_seconds"] = 3.0  # long enough to be seen running
    if fail:
        error = {"error": {"status": 400, "message": "scripted failure for the dashboard test"}}
        rules.insert(0, {"task": FAILING, "turns": [error]})
    return data


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    scenario = parse_scenario(yaml.safe_dump(_scenario(fail=True)), "dashboard scenario")
    with ScriptedModelServer(scenario) as server:
        yield server


class Served:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.url_seen = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.search(r"Dashboard: (http://[^/\s]+)/\?token=", line)
            if found:
                self.url = found.group(1)
                self.url_seen.set()


def _task_id(client: httpx.Client, project: int, key: str) -> int:
    tasks = client.get(f"/api/projects/{project}/tasks").json()
    return next(t["id"] for t in tasks if t["key"] == key)


def _node(page: Page, task_id: int, state: str) -> object:
    return page.locator(f'.react-flow__node[data-id="task-{task_id}"].state-{state}')


def test_watch_review_retry_and_edit_in_the_browser(
    tmp_path: Path,
    pg_database_url: str,
    model: ScriptedModelServer,
    request: pytest.FixtureRequest,
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    repo = make_sample_repository(tmp_path / "repo")
    (tmp_path / "token").write_text(TOKEN)
    env = {
        **os.environ,
        "YOKEFLOW_AGENT_MAX_ATTEMPTS": "1",
        "YOKEFLOW_PARALLEL_CONFLICT_RESOLUTION": "theirs",
    }
    process = subprocess.Popen(
        [
            YOKEFLOW, "run", "--repo", str(repo), "--plan", str(demo_dir() / "plan.yaml"),
            "--serve", "--port", "0", "--token-file", str(tmp_path / "token"),
            "--database-url", pg_database_url, "--model-endpoint", model.url,
            "--max-concurrency", "3",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    served = Served(process)
    try:
        assert served.url_seen.wait(120), "".join(served.lines)
        base = served.url
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"})
        request.addfinalizer(client.close)
        project = client.get("/api/projects").json()[0]["id"]
        slow = _task_id(client, project, SLOW)
        failing = _task_id(client, project, FAILING)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/?token={TOKEN}")
            page.goto(f"{base}/#/projects/{project}")
            expect(page.get_by_test_id("live")).to_have_text("live", timeout=30_000)

            # A task runs, then merges — seen live, without reloading the page.
            expect(_node(page, slow, "running")).to_be_visible(timeout=120_000)
            page.screenshot(path=shots / "1-running.png")
            expect(_node(page, slow, "merged")).to_be_visible(timeout=180_000)
            page.screenshot(path=shots / "2-merged.png")

            # Its panel: the transcript and the diff of its branch.
            page.locator(f'.react-flow__node[data-id="task-{slow}"]').click()
            panel = page.get_by_test_id("task-panel")
            expect(panel.get_by_test_id("task-state")).to_have_text("merged")
            expect(page.get_by_test_id("transcript").locator("li").first).to_be_visible(
                timeout=30_000
            )
            expect(page.get_by_test_id("transcript")).to_contain_text("Write")
            page.screenshot(path=shots / "3-transcript.png")
            panel.get_by_role("button", name="Diff").click()
            expect(page.get_by_test_id("diff")).to_contain_text(
                "+++ b/todo/model.py", timeout=30_000
            )
            page.screenshot(path=shots / "4-diff.png")

            # The run ends with the failed task; the model now answers it; retry from the panel.
            expect(page.get_by_test_id("finished")).to_be_visible(timeout=300_000)
            expect(_node(page, failing, "failed")).to_be_visible(timeout=30_000)
            page.screenshot(path=shots / "5-failed.png")
            model.scenario = parse_scenario(yaml.safe_dump(_scenario(fail=False)), "healed")
            page.locator(f'.react-flow__node[data-id="task-{failing}"]').click()
            page.get_by_test_id("task-panel").get_by_role("button", name="Retry").click()
            expect(_node(page, failing, "merged")).to_be_visible(timeout=240_000)
            # What the failure blocked runs after it: the whole plan merges.
            total = len(client.get(f"/api/projects/{project}/tasks").json())
            expect(page.get_by_test_id("merged-count")).to_contain_text(
                f"{total}/{total} merged", timeout=240_000
            )
            page.screenshot(path=shots / "6-retried-merged.png")

            # Edit an expertise note and see it saved (read back through the API too).
            page.goto(f"{base}/#/projects/{project}/expertise")
            page.get_by_role("button", name=re.compile(r"^database")).click()
            editor = page.get_by_test_id("expertise-editor")
            expect(editor).to_be_visible()
            note = "- Keep ids stable across saves (edited in the dashboard)"
            editor.fill(editor.input_value() + f"\n## Techniques\n{note}\n")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_test_id("expertise-message")).to_contain_text("Saved version")
            page.screenshot(path=shots / "7-expertise.png")
            saved = client.get(f"/api/projects/{project}/expertise/database").json()
            assert "Keep ids stable across saves" in saved["markdown"]
        states = {t["key"]: t["state"] for t in client.get(f"/api/projects/{project}/tasks").json()}
        assert states[FAILING] == "merged"
        assert set(states.values()) == {"merged"}, states
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
    assert sorted(p.name for p in shots.iterdir())[-1] == "7-expertise.png"
