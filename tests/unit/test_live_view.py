"""The live view's ETA: the rest of the run simulated, not the work left divided by the agents."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from yokeflow.core.events import CostUpdate, MergeDone, TaskComplete, TaskStart
from yokeflow.core.graph import GraphTask, resolve
from yokeflow.core.run_view import TaskLine
from yokeflow.core.schedule import TaskState
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


def _graph_of_three() -> object:
    return resolve(
        [
            GraphTask("a", "e", estimate_minutes=1),
            GraphTask("b", "e", depends_on=("a",), estimate_minutes=1),
            GraphTask("c", "e", estimate_minutes=1),
        ]
    )


def _line(key: str, state: TaskState, error: str | None) -> TaskLine:
    return TaskLine(key, key, state, 1, "m", Decimal("0.01"), 1.0, f"yokeflow/task/{key}", error)


def test_on_a_terminal_the_clock_ticks_and_event_lines_stay_on_screen() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True)
    with LiveView(_graph_of_three(), 2, console) as view:  # type: ignore[arg-type]
        first = _header(view)
        view._started -= 5  # five seconds later, without any event
        assert first != _header(view)
        assert "elapsed 5s" in _header(view)
        view.publish(TaskStart("a", "e", 1, "claude-haiku-4-5", "/w/a", at=0.0))
        view.publish(TaskComplete("a", False, 1, 2.0, 0.01, "HTTP 400 from the model", at=2.0))
    shown = out.getvalue()
    assert "start  a (attempt 1, claude-haiku-4-5)" in shown
    assert "failed a: HTTP 400 from the model" in shown


def test_the_store_gives_the_cost_and_the_reasons_each_said_once() -> None:
    out = io.StringIO()
    view = LiveView(_graph_of_three(), 2, Console(file=out, width=200))  # type: ignore[arg-type]
    view.publish(TaskStart("a", "e", 1, "m", "/w/a", at=0.0))
    view.publish(TaskComplete("a", False, 2, 2.0, 0.01, "HTTP 400", at=2.0))
    view.publish(CostUpdate("a", "m", 0.01, 0.01, None, at=2.0))  # the executor's own sum
    lines = [
        _line("a", TaskState.FAILED, "HTTP 400"),
        _line("b", TaskState.BLOCKED, "dependency a did not land"),
        _line("c", TaskState.MERGED, None),
    ]
    view.observe(lines, Decimal("0.5"))
    view.observe(lines, Decimal("0.5"))
    printed = out.getvalue()
    assert printed.count("HTTP 400") == 1  # said by the event line, not again
    assert printed.count("blocked b: dependency a did not land") == 1
    assert view.states["b"] == "blocked"
    assert "cost $0.5000" in _header(view)
    shown = Console(file=io.StringIO(), width=200)
    shown.print(view.render())
    text = shown.file.getvalue()  # type: ignore[attr-defined]
    assert "b blocked: dependency a did not land" in text
    assert "a failed: HTTP 400" in text
    view.__exit__(None, None, None)
    assert "cost $0.5000 recorded for the project" in out.getvalue()
