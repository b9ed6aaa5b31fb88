"""A real Prometheus (Debian's) scrapes a real run: metrics, rules and every dashboard query.

``yokeflow run --serve`` runs a plan with the real Claude Code CLI against the scripted model
server, real git and PostgreSQL; Prometheus scrapes its API's ``/metrics`` every second (with
the API's token), and an operator's metrics server fed by its reconcile wrapper. During the run
the live exposition passes ``promtool check metrics``; after it, Prometheus gives back the tasks
done, the sessions, merges and cost the run reported; it loaded the alert rules and evaluates
them without error; and every dashboard panel's PromQL is accepted by it, returning data.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.controller.metrics_server import OperatorMetrics
from yokeflow.core.scenario import parse_scenario
from yokeflow.errors import TemporaryError
from yokeflow.specs.dashboards import DASHBOARDS, VARIABLES
from yokeflow.testing.git_repos import make_repository

pytestmark = [pytest.mark.agent, pytest.mark.postgres, pytest.mark.timeout(420)]

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))
ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "charts/yokeflow/rules/yokeflow.rules.yaml"
TOKEN = "metrics-token-0123456789abcdef"
KEYS = ("schema", "seed", "list", "docs")
PLAN = """
name: metered
epics:
  - key: e
    name: Everything
    tasks:
      - {key: schema, title: Task schema}
      - {key: seed, title: Task seed, depends_on: [schema]}
      - {key: list, title: Task list, depends_on: [schema]}
      - {key: docs, title: Task docs}
"""
SCENARIO = "rules:" + "".join(
    f"""
  - task: {key}
    delay_seconds: 1.5
    usage: {{input_tokens: 4000, output_tokens: 300}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/{key}.txt", content: "{key}\\n"}}
      - text: "{key} written."
"""
    for key in KEYS
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """``yokeflow run --serve``'s output, read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.url = ""
        self.url_seen = threading.Event()
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.search(r"Dashboard: (http://[^/\s]+)/\?token=", line)
            if found:
                self.url = found.group(1)
                self.url_seen.set()
            if "The run ended" in line:
                self.ended.set()

    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def api_port() -> int:
    return _free_port()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN)
    return path


@pytest.fixture
def served(
    tmp_path: Path,
    pg_database_url: str,
    api_port: int,
    token_file: Path,
    prometheus: tuple[Path, int],
) -> Iterator[Served]:
    """The run starts only once Prometheus scrapes its (still unanswered) address every second."""
    repo = make_repository(tmp_path / "repo", {"README.md": "metered\n"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    with ScriptedModelServer(parse_scenario(SCENARIO, "metered")) as model:
        process = subprocess.Popen(
            [
                YOKEFLOW, "run", "--repo", str(repo), "--plan", str(plan), "--serve",
                "--port", str(api_port), "--token-file", str(token_file),
                "--database-url", pg_database_url, "--model-endpoint", model.url,
                "--max-concurrency", "2", "--budget", "5",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            yield Served(process)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
async def operator_metrics() -> AsyncIterator[tuple[OperatorMetrics, int]]:
    """An operator's metrics server that saw passes over two ProjectRuns and one failed pass."""
    metrics = OperatorMetrics()
    status = {"phase": "Running", "costUsd": "1.25", "tasks": {"running": 2, "queued": 1}}
    for name in ("shop", "blog", "broken"):
        body = {
            "metadata": {"name": name, "namespace": "team"},
            "spec": {"budget": {"limitUsd": 10}},
        }
        error = TemporaryError("the API server refused") if name == "broken" else None
        metrics.passed(body, {} if error else status, 0.02, error)
    port = await metrics.start(0, host="127.0.0.1")
    try:
        yield metrics, port
    finally:
        await metrics.stop()


def _wait_sync(what: str, check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds}s"
        time.sleep(0.3)


@pytest.fixture
def prometheus(
    tmp_path: Path,
    api_port: int,
    token_file: Path,
    operator_metrics: tuple[OperatorMetrics, int],
) -> Iterator[tuple[Path, int]]:
    """Debian's Prometheus, ready and scraping the run's API and the operator every second.

    It starts before the run, so that no scrape can miss the agents while they run.
    """
    binary = shutil.which("prometheus")
    assert binary is not None, "Debian's prometheus comes from scripts/test-services.sh"
    folder, port = tmp_path / "prometheus", _free_port()
    folder.mkdir()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "yokeflow-api",
                "authorization": {"credentials_file": str(token_file)},
                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
            },
            {
                "job_name": "yokeflow-operator",
                "static_configs": [{"targets": [f"127.0.0.1:{operator_metrics[1]}"]}],
            },
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    with (folder / "prometheus.log").open("w") as log:
        server = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def ready() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).is_success
                except httpx.TransportError:
                    return server.poll() is not None  # exited: the assert below says so

            _wait_sync("prometheus ready", ready, 60)
            assert server.poll() is None, (folder / "prometheus.log").read_text()
            yield folder, port
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


async def _wait(what: str, check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds}s"
        await asyncio.sleep(0.3)


async def _value(client: httpx.AsyncClient, query: str) -> float | None:
    answer = (await client.get("/api/v1/query", params={"query": query})).json()
    assert answer["status"] == "success", (query, answer)
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


# Metrics do not depend on the PostgreSQL version: one server is enough for this long test.
@pytest.mark.parametrize("pg_server", ["pg18"], indirect=True)
async def test_prometheus_scrapes_a_run_and_answers_every_dashboard_query(
    served: Served, prometheus: tuple[Path, int]
) -> None:
    assert await asyncio.to_thread(served.url_seen.wait, 120), served.text()
    _, port = prometheus
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as prom,
        httpx.AsyncClient(
            base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ) as api,
    ):
        # The live exposition, while agents run, is valid for promtool.
        async def running_exposition() -> str | None:
            text = (await api.get("/metrics")).text
            busy = re.search(r"^yokeflow_agents_running ([1-9])", text, re.M)
            return text if busy or served.ended.is_set() else None

        live = await _wait("agents running", running_exposition, 180)
        checked = subprocess.run(  # noqa: ASYNC221  (promtool answers at once)
            [str(shutil.which("promtool")), "check", "metrics"],
            input=live, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr

        assert await asyncio.to_thread(served.ended.wait, 240), served.text()
        output = served.text()
        assert "Tasks: 4/4 merged" in output, output
        reported = float(re.search(r"Cost: \$([0-9.]+)", output).group(1))  # type: ignore[union-attr]
        assert reported > 0

        async def done() -> float | None:
            value = await _value(prom, 'sum(yokeflow_tasks{status="done"})')
            return value if value == len(KEYS) else None

        await _wait("tasks done in prometheus", done, 30)
        await asyncio.sleep(2)  # a few more scrapes after the run's end

        assert await _value(prom, "sum(yokeflow_cost_usd_total)") == pytest.approx(
            reported, abs=1e-4
        )
        tokens = await _value(prom, 'sum(yokeflow_tokens_total{kind="input"})')
        assert tokens is not None
        assert tokens >= 4000 * len(KEYS)
        success = 'sum(yokeflow_task_sessions_total{outcome="success"})'
        assert await _value(prom, success) == len(KEYS)
        assert await _value(prom, 'sum(yokeflow_merges_total{status="merged"})') == len(KEYS)
        assert await _value(prom, "sum(yokeflow_merge_duration_seconds_count)") == len(KEYS)
        assert await _value(prom, 'yokeflow_runs{phase="Succeeded"}') == 1
        peak = await _value(prom, 'max_over_time(yokeflow_agents_running{job="yokeflow-api"}[5m])')
        assert peak is not None
        assert peak >= 1  # agents were seen running (how many at once depends on timing)
        assert await _value(prom, 'yokeflow_agents_running{job="yokeflow-api"}') == 0
        budget = await _value(prom, 'max_over_time(yokeflow_budget_usd{job="yokeflow-api"}[5m])')
        assert budget == pytest.approx(5)
        left = await _value(
            prom, 'min_over_time(yokeflow_budget_remaining_usd{job="yokeflow-api"}[5m])'
        )
        assert left is not None  # what is left to reserve: spent and running agents' estimates out
        assert 0 <= left < 5  # spend and reservations were taken off while the run went on
        # In every scrape, what is left plus what was spent is at most the budget. (Not "left at
        # its lowest == budget - final cost": the series goes with the run's end, which can come
        # sooner after the last cost than the next scrape.)
        ledger = await _value(
            prom,
            'max_over_time((yokeflow_budget_remaining_usd{job="yokeflow-api"} + on() group_left()'
            ' sum(yokeflow_cost_usd_total{job="yokeflow-api"}))[5m:1s])',
        )
        assert ledger is not None
        assert ledger <= 5 + 1e-4
        makespan = await _value(prom, "yokeflow_run_makespan_seconds")
        bound = await _value(prom, "yokeflow_run_lower_bound_seconds")
        assert makespan is not None
        assert bound is not None
        assert 0 < bound <= makespan
        assert await _value(prom, 'sum(yokeflow_project_runs{phase="Running"})') == 2
        errors = 'sum(yokeflow_reconcile_errors_total{error="TemporaryError"})'
        assert await _value(prom, errors) == 1

        # The alert rules loaded and evaluate without error. Nothing fires on the good run; the
        # operator's ProjectRuns, whose running tasks never change here, make RunStuck pending.
        groups = (await prom.get("/api/v1/rules")).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == 6
        assert {rule["health"] for rule in rules} == {"ok"}, rules
        states = {rule["name"]: rule["state"] for rule in rules}
        assert states == dict.fromkeys(states, "inactive") | {"YokeFlowRunStuck": "pending"}

        # Every dashboard query is accepted and, over the run, gives data.
        end = time.time()
        for spec in DASHBOARDS:
            for panel in spec.panels:
                series = 0
                for query in panel.queries:
                    expr = query.expr
                    for variable, value in VARIABLES.items():
                        expr = expr.replace(variable, value)
                    answer = (
                        await prom.get(
                            "/api/v1/query_range",
                            params={"query": expr, "start": end - 300, "end": end, "step": 1},
                        )
                    ).json()
                    assert answer["status"] == "success", (panel.title, expr, answer)
                    series += len(answer["data"]["result"])
                assert series, f"{spec.uid}: {panel.title} shows nothing: {panel.queries}"
