r"""The live terminal view of a run: epics as columns, task states, agents, merges, cost, ETA.

It is an event sink: the executor publishes, and the view prints one line per notable event —
above the live table on a terminal (``rich.live``, redrawn four times a second so its clock
ticks between events), alone elsewhere (CI logs, pipes). It also :meth:`~LiveView.observe`\ s
the store: the run's cost is the project's recorded spend (``agent_costs``: planning and
conflict resolutions included — the same figure the end-of-run report shows), and every failed,
blocked or conflicting task is listed with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from yokeflow.core.events import Event
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.run_view import TaskLine
from yokeflow.core.schedule import Limits, TaskRun, TaskState, forecast

__all__ = ["LiveView"]

_STYLE = {
    "pending": ("·", "dim"),
    "running": ("▶", "bold yellow"),
    "done": ("✓", "cyan"),
    "merged": ("●", "bold green"),
    "failed": ("✗", "bold red"),
    "conflict": ("⚠", "bold magenta"),
    "blocked": ("■", "red"),
    "cancelled": ("○", "dim"),
}


@dataclass
class LiveView:
    """Shows a run of ``graph`` with at most ``concurrency`` agents."""

    graph: DependencyGraph
    concurrency: int
    console: Console = field(default_factory=Console)
    states: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    """When each running task started (the run's clock)."""
    cost: Decimal = Decimal(0)
    """The project's recorded spend (from the store, see :meth:`observe`)."""
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Failed, blocked and conflicting tasks: key -> (state, reason), from the store."""
    batches: int = 0
    conflicts: int = 0
    outcome: str | None = None
    _started: float = field(default_factory=time.monotonic)
    _last_event: tuple[float, float] = (0.0, 0.0)
    """The run's clock at the last event, and this process's monotonic clock then."""
    _live: Live | None = None
    _said: dict[str, tuple[str, str]] = field(default_factory=dict)
    """What the event lines already said of a task's trouble (not repeated by :meth:`observe`)."""

    def __enter__(self) -> LiveView:
        if self.console.is_terminal:
            # Rendered afresh at every refresh: the clock and the ETA move between events.
            self._live = Live(
                console=self.console,
                refresh_per_second=4,
                transient=False,
                get_renderable=self.render,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None
        self.console.print(
            f"[{self._clock():6.1f}s] cost ${self.cost:.4f} recorded for the project "
            "(planning and conflict resolutions included)",
            highlight=False,
            soft_wrap=True,
        )

    def _clock(self) -> float:
        return time.monotonic() - self._started

    def publish(self, event: Event) -> None:
        line = self._apply(event)
        if line:  # on a terminal, printed above the live table and kept on screen
            self.console.print(line, highlight=False, soft_wrap=True)

    def observe(self, lines: Iterable[TaskLine], cost: Decimal) -> None:
        """What the store says now: the project's spend, and why tasks failed or are blocked.

        A task that newly failed, is blocked or conflicts gets a line with its reason (unless an
        event already said the same); a blocked task is shown blocked (the executor publishes
        no event for it).
        """
        self.cost = cost
        current: dict[str, tuple[str, str]] = {}
        for line in lines:
            if line.state in (TaskState.FAILED, TaskState.BLOCKED, TaskState.CONFLICT):
                current[line.key] = (line.state.value, line.error or "no reason recorded")
        for key, (state, reason) in current.items():
            if self.problems.get(key) == (state, reason):
                continue
            if state == TaskState.BLOCKED.value:
                self.states[key] = state
            if self._said.get(key) != (state, reason):
                self.console.print(
                    f"[{self._clock():6.1f}s] {state} {key}: {reason}", highlight=False
                )
        self.problems = current

    def _apply(self, event: Event) -> str | None:
        self._last_event = (event.at, time.monotonic())
        at = f"[{event.at:6.1f}s]"
        match event.kind:
            case "task_start":
                self.states[event.task] = "running"
                self.started[event.task] = event.at
                self.models[event.task] = event.model
                return f"{at} start  {event.task} (attempt {event.attempt}, {event.model})"
            case "task_complete":
                self.states[event.task] = "done" if event.success else "failed"
                self.seconds[event.task] = event.duration_seconds
                if not event.success:
                    self._said[event.task] = ("failed", event.error or "no reason recorded")
                took = f"in {event.duration_seconds:.1f}s, ${event.cost_usd:.4f}"
                if event.success:
                    return f"{at} done   {event.task} {took}"
                return f"{at} failed {event.task}: {event.error or 'no reason recorded'} ({took})"
            case "merge":
                merged = event.status in ("merged", "already_merged")
                self.states[event.task] = "merged" if merged else "conflict"
                if event.status == "conflict" or event.status.startswith("error"):
                    self.conflicts += 1
                files = f" ({', '.join(event.conflicts)})" if event.conflicts else ""
                return f"{at} merge  {event.task}: {event.status}{files}"
            case "cost_update":
                return None  # the cost shown is the store's (observe), not the executor's sum
            case "batch_start":
                self.batches = max(self.batches, event.batch)
                return f"{at} batch {event.batch}: {', '.join(event.tasks)}"
            case "run_finished":
                self.outcome = event.outcome
                return f"{at} run {event.outcome}: {event.reason}"
            case _:
                return None

    def _eta(self) -> str:
        """The rest of the run simulated on the estimates, refined by the measured durations."""
        if not self.seconds or self.outcome is not None:
            return "—"
        at, then = self._last_event
        now = at + time.monotonic() - then
        runs = {key: self._task_run(key) for key in self.graph.tasks}
        minutes = forecast(self.graph, runs, Limits(max_concurrency=self.concurrency), now)
        return f"~{minutes * 60:.0f}s"

    def _task_run(self, key: str) -> TaskRun:
        state = self.states.get(key, "pending")
        measured = self.seconds.get(key)
        duration = measured / 60 if measured is not None and state in ("done", "merged") else None
        if state == "running":
            return TaskRun(TaskState.RUNNING, 1, started_at=self.started.get(key))
        if state == "failed":  # the view cannot tell a retry to come: counted as final
            return TaskRun(TaskState.FAILED, Limits().max_attempts)
        return TaskRun(TaskState(state), 1, duration=duration)

    def render(self) -> Group:
        total = len(self.graph.tasks)
        merged = sum(1 for s in self.states.values() if s == "merged")
        running = [k for k, s in self.states.items() if s == "running"]
        elapsed = self._clock()
        header = Text.assemble(
            ("YokeFlow ", "bold"),
            f"merged {merged}/{total} · running {len(running)}/{self.concurrency} · "
            f"batches {self.batches} · conflicts {self.conflicts} · cost ${self.cost:.4f} · "
            f"elapsed {elapsed:.0f}s · ETA {self._eta()}",
        )
        table = Table(expand=False, show_lines=False, pad_edge=False)
        by_epic: dict[str, list[str]] = {}
        for task in self.graph.tasks.values():
            by_epic.setdefault(task.epic, []).append(task.key)
        for epic in by_epic:
            table.add_column(self.graph.epics[epic].name or epic, no_wrap=True)
        for row in range(max((len(v) for v in by_epic.values()), default=0)):
            cells: list[Text | str] = []
            for keys in by_epic.values():
                if row >= len(keys):
                    cells.append("")
                    continue
                key = keys[row]
                glyph, style = _STYLE[self.states.get(key, "pending")]
                model = self.models.get(key, "")
                short = model.removeprefix("claude-").split("-")[0] if model else ""
                cells.append(Text(f"{glyph} {key} {short}".rstrip(), style=style))
            table.add_row(*cells)
        agents = Text(
            "agents: " + (", ".join(f"{k} ({self.models.get(k, '?')})" for k in running) or "none"),
            style="dim",
        )
        trouble = [
            Text(f"{_STYLE[state][0]} {key} {state}: {reason}", style=_STYLE[state][1])
            for key, (state, reason) in self.problems.items()
        ]
        return Group(header, table, agents, *trouble)
