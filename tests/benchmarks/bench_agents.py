"""Agent sessions with the real CLI against the scripted model server: time and memory.

Run: .venv/bin/python tests/benchmarks/bench_agents.py [--sessions 1,2,4] [--repeat 3]

For each concurrency level it runs that many one-Write-one-commit sessions at once (each in its
own git repository) and prints the wall time, the per-session time, and the peak resident memory
of the CLI processes (together, and the largest single one). Numbers depend on the machine's
load; run it on a quiet machine to compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import anyio

from yokeflow.adapters.claude import ClaudeAgentRunner
from yokeflow.ports.agent import AgentRequest
from yokeflow.testing.agents import MemorySampler, git_repository, scripted_model

SCENARIO = """
rules:
  - match: "/bench \\\\d+/"
    turns:
      - tool: Write
        input: {file_path: "{cwd}/out.txt", content: "x\\n"}
      - tool: Bash
        input: {command: "git add out.txt && git commit -q -m bench"}
      - text: "Done."
"""


async def _round(
    server_url: str, base: Path, sessions: int, marker: str
) -> tuple[float, list[float], int, int]:
    runner = ClaudeAgentRunner(endpoint=server_url)
    repos = [git_repository(base / f"{uuid.uuid4().hex[:8]}") for _ in range(sessions)]
    durations: list[float] = []

    async def one(n: int) -> None:
        result = await runner.run(
            AgentRequest(
                prompt=f"bench {n}", cwd=repos[n], model="claude-haiku-4-5", timeout_seconds=300
            )
        )
        if not result.success:
            raise SystemExit(f"session {n} failed: {result.error}")
        durations.append(result.duration_seconds)

    with MemorySampler(marker, "YOKEFLOW_BENCH_RUN", interval=0.05) as memory:
        began = time.monotonic()
        async with anyio.create_task_group() as group:
            for n in range(sessions):
                group.start_soon(one, n)
        wall = time.monotonic() - began
    return wall, durations, memory.peak_total, max(memory.peak_by_pid.values(), default=0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,2,4", help="concurrency levels, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per level")
    args = parser.parse_args()
    marker = uuid.uuid4().hex
    os.environ["YOKEFLOW_BENCH_RUN"] = marker  # inherited by every CLI: what the sampler counts
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, scripted_model(SCENARIO) as server:
        for sessions in (int(s) for s in args.sessions.split(",")):
            walls: list[float] = []
            per_session: list[float] = []
            peaks: list[int] = []
            largest: list[int] = []
            for _ in range(args.repeat):
                wall, durations, peak, biggest = await _round(
                    server.url, Path(tmp), sessions, marker
                )
                walls.append(wall)
                per_session.extend(durations)
                peaks.append(peak)
                largest.append(biggest)
            print(
                f"{sessions} at once: wall median {statistics.median(walls):.2f} s "
                f"(min {min(walls):.2f}), session median {statistics.median(per_session):.2f} s, "
                f"peak memory together {max(peaks) / 2**20:.0f} MB, "
                f"largest CLI {max(largest) / 2**20:.0f} MB"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    anyio.run(main)
