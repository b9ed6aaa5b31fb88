"""How long the dashboard takes to render a 500-task plan in Debian's Chromium (target: < 2 s).

Serves the API over a fresh database holding a random plan of 500 tasks (10 epics, hard, soft
and epic dependencies) and, as the baseline measured in the same run, the 40-task example plan;
opens each project's board in headless Chromium (Playwright, ``/usr/bin/chromium``) and prints
the time from navigation start until every swimlane node is measured (the page marks it), the
median of ``--repeat`` loads, and the ratio to the baseline::

    .venv/bin/python tests/benchmarks/bench_dashboard.py
    .venv/bin/python tests/benchmarks/bench_dashboard.py --server-url postgresql://...  # e.g. PG 15
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore, migrate
from yokeflow.cli.planfile import read_plan
from yokeflow.services.runs import create_from_plan
from yokeflow.settings import Settings
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.plans import random_plan
from yokeflow.testing.postgres import create_database, drop_database
from yokeflow.web.app import STATIC_DIR, create_app, local_deps

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-dashboard-token-0123456789"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def serve(url: str, repo: Path, ready: threading.Event, state: dict[str, object]) -> None:
    import uvicorn

    async def main() -> None:
        await migrate(url)
        async with await PostgresStore.connect(url) as store:
            big = await create_from_plan(
                store, random_plan(epics=10, tasks_per_epic=50, name="five-hundred"), repo
            )
            small = await create_from_plan(
                store, read_plan(ROOT / "examples/plans/bookstore.yaml"), repo
            )
            deps = local_deps(store, Settings(), TOKEN, static_dir=STATIC_DIR)
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(deps), host="127.0.0.1", port=0, log_level="error", lifespan="off"
                )
            )
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
                await asyncio.sleep(0.02)
            state.update(
                server=server,
                base=f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}",
                projects={"500": big.id, "40": small.id},
                counts={
                    "500": len(await store.list_tasks(big.id)),
                    "40": len(await store.list_tasks(small.id)),
                },
            )
            ready.set()
            await task

    asyncio.run(main())


def measure(base: str, project: int, repeat: int) -> list[float]:
    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = context.new_page()
            page.goto(f"{base}/?token={TOKEN}")  # sets the cookie
            for _ in range(repeat):
                page.goto("about:blank")
                page.goto(f"{base}/#/projects/{project}")
                try:
                    page.wait_for_selector("body[data-rendered]", state="attached", timeout=60_000)
                except Exception:
                    page.screenshot(path="/tmp/bench-dashboard-timeout.png")
                    raise
                seconds.append(page.evaluate("window.yokeflowRenderedAt") / 1000)
        finally:
            browser.close()
    return seconds


def bench(server_url: str, repeat: int) -> None:
    if not (STATIC_DIR / "index.html").is_file():
        raise SystemExit("the dashboard is not built: run bash scripts/setup.sh")
    name = f"bench_dashboard_{int(time.time())}"
    url = asyncio.run(create_database(server_url, name))
    with tempfile.TemporaryDirectory(prefix="yf-bench-dash-") as tmp:
        repo = make_repository(Path(tmp) / "repo")
        ready = threading.Event()
        state: dict[str, object] = {}
        thread = threading.Thread(target=serve, args=(url, repo, ready, state), daemon=True)
        thread.start()
        try:
            if not ready.wait(120):
                raise SystemExit("the API did not start")
            base = str(state["base"])
            projects: dict[str, int] = state["projects"]  # type: ignore[assignment]
            counts: dict[str, int] = state["counts"]  # type: ignore[assignment]
            results = {size: measure(base, projects[size], repeat) for size in ("40", "500")}
        finally:
            server = state.get("server")
            if server is not None:
                server.should_exit = True  # type: ignore[attr-defined]
            thread.join(30)
            asyncio.run(drop_database(server_url, name))
    medians = {size: statistics.median(values) for size, values in results.items()}
    for size in ("40", "500"):
        values = ", ".join(f"{v:.3f}" for v in results[size])
        print(
            f"{counts[size]:>4} tasks: rendered in {medians[size]:.3f} s (median of {repeat}: {values})"
        )
    print(f"500-task board / 40-task board: {medians['500'] / medians['40']:.2f}x")
    verdict = "under" if medians["500"] < 2.0 else "OVER"
    print(f"500-task board: {medians['500']:.3f} s, {verdict} the 2 s target")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", help="A PostgreSQL server URL (default: an embedded one).")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.server_url:
        bench(args.server_url, args.repeat)
        return 0
    with tempfile.TemporaryDirectory(prefix="yf-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data")
        try:
            bench(server.server_url(), args.repeat)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
