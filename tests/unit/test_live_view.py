"""The live view's ETA: the rest of the run simulated, not the work left divided by the agents."""

from __future__ import annotations

import io

from rich.console import Console

from yokeflow.core.events import MergeDone, TaskComplete, TaskStart
from yokeflow.core.graph import GraphTask, resolve
from yokeflow.local.live import LiveView


def test_the_eta_follows_the_critical_chain_and_the_measured_pace() -> None:
    # a -> b -> c (1 minute each by estimate) beside four independent 1-minute tasks; 4 agents.
    graph = resolve(
        [
            GraphTask("a", "e", estimate_minutes=1),
            GraphTask("b", "e", depends_on=("a",), estimate_minutes=1),
            GraphTask("c", "e", depends_on=("b",), estimate_minutes=1),
            *(GraphTask(f"x{i}", "e", estimate_minutes=1) for i in range(4)),
        ]
    )
    view = LiveView(graph, 4, Console(file=io.StringIO(), width=120))
    assert "ETA —" in _header(view)  # nothing measured yet
    view.publish(TaskStart("a", "e", 1, "m", "/w/a", at=0.0))
    view.publish(TaskComplete("a", True, 1, 30.0, 0.01, None, at=30.0))  # half the estimate
    view.publish(MergeDone("a", "merged", "c0ffee", (), at=30.5))
    # b and c are left on the chain at 30 s each; the x tasks fit beside them.
    eta = _header(view).split("ETA ~")[1].split("s")[0]
    assert 59 <= int(eta) <= 61


def _header(view: LiveView) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(view.render().renderables[0])
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output
