"""Four sessions at once, each in its own repository, against one scripted server."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from yokeflow.ports.agent import AgentRequest, AgentResult
from yokeflow.testing.agents import MemorySampler, git, git_repository, runner_for, scripted_model

pytestmark = [pytest.mark.agent, pytest.mark.timeout(240)]

SCENARIO = """
rules:
  - match: "/Task t\\\\d/"
    delay_seconds: 0.3
    turns:
      - tool: Write
        input: {file_path: "{cwd}/out.txt", content: "written in {cwd}\\n"}
      - tool: Bash
        input: {command: "git add out.txt && git commit -q -m 'work'"}
      - text: "Done."
"""


async def test_four_sessions_at_once(tmp_path: Path, test_marker: str) -> None:
    repos = [git_repository(tmp_path / f"r{n}") for n in range(4)]
    results: dict[int, AgentResult] = {}
    with scripted_model(SCENARIO) as server:
        runner = runner_for(server)

        async def one(n: int) -> None:
            request = AgentRequest(
                prompt=f"Task t{n}", cwd=repos[n], model="claude-haiku-4-5", task=f"t{n}"
            )
            results[n] = await runner.run(request)

        with MemorySampler(test_marker, "YOKEFLOW_TEST_RUN") as memory:
            began = time.monotonic()
            async with anyio.create_task_group() as group:
                for n in range(4):
                    group.start_soon(one, n)
            took = time.monotonic() - began
    assert sorted(results) == [0, 1, 2, 3]
    for n, result in results.items():
        assert result.success, (n, result.error)
        assert (repos[n] / "out.txt").read_text() == f"written in {repos[n]}\n"
        assert git(repos[n], "log", "-1", "--format=%s").strip() == "work"
    # Each conversation got its own turns, in order, despite the interleaving.
    for n in range(4):
        assert [r.turn for r in server.requests.turns(f"t{n}")] == [0, 1, 2]
    assert memory.most_processes >= 4  # they really ran side by side
    cli_peaks = sorted(memory.peak_by_pid.values(), reverse=True)[:4]
    print(
        f"\nfour sessions: {took:.1f} s wall, peak {memory.peak_total / 2**20:.0f} MB together, "
        f"{', '.join(f'{p / 2**20:.0f}' for p in cli_peaks)} MB per CLI"
    )
    assert took < 120
