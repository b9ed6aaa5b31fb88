"""What the metrics remember of a run, followed event by event (pure)."""

from __future__ import annotations

from yokeflow.core.events import (
    AgentStatus,
    BatchStart,
    CostUpdate,
    MergeDone,
    RunFinished,
    TaskComplete,
    TaskStart,
)
from yokeflow.core.graph import GraphTask, resolve
from yokeflow.core.run_track import RunTrack, measured_lower_bound


def _graph():  # type: ignore[no-untyped-def]
    return resolve(
        [
            GraphTask("a", "e", "A"),
            GraphTask("b", "e", "B", depends_on=("a",)),
            GraphTask("c", "e", "C"),
        ]
    )


def test_a_run_from_start_to_end() -> None:
    track = RunTrack()
    assert track.phase is None
    assert track.follow(BatchStart(1, ("a", "c"), 0.5)) is None
    assert track.phase == "Running"
    track.follow(TaskStart("a", "e", 1, "m", "/w/a", 0.6))
    track.follow(TaskComplete("a", True, 1, 10.0, 0.2, None, 11.0))
    track.follow(CostUpdate("a", "m", 0.2, 0.2, 0.7, 11.0, 1.0))
    assert (track.remaining_usd, track.budget_usd) == (0.7, 1.0)
    assert track.follow(MergeDone("a", "merged", "c0ffee", (), 13.5)) == 2.5
    # A second merge event of the same task (after a conflict's resolution) is not timed again.
    assert track.follow(MergeDone("a", "merged", "c0ffee", (), 14.0)) is None
    track.follow(TaskComplete("a", False, 2, 4.0, 0.0, "boom", 20.0))
    assert track.task_seconds == {"a": 14.0}
    track.follow(RunFinished("succeeded", "all merged", 30.0))
    assert track.phase == "Succeeded"
    assert track.makespan_seconds == 30.0
    # A merge by a person after the run neither restarts it nor counts a duration.
    assert track.follow(MergeDone("b", "merged", "beef", (), 3.0)) is None
    assert track.phase == "Succeeded"


def test_the_next_run_starts_afresh_and_outcomes_map_to_phases() -> None:
    track = RunTrack()
    track.follow(BatchStart(1, ("a",), 0.1))
    track.follow(TaskComplete("a", True, 1, 5.0, 0.1, None, 5.0))
    track.follow(CostUpdate("a", "m", 0.1, 0.1, 0.0, 5.0, 0.1))
    track.follow(RunFinished("budget_exhausted", "no money", 6.0))
    assert track.phase == "BudgetExhausted"
    track.follow(AgentStatus((("b", "m"),), 1, 2, 0.2))  # a resumed run's first event
    assert track.phase == "Running"
    assert track.task_seconds == {}
    assert track.makespan_seconds == 0.2
    assert track.budget_usd is None
    track.follow(RunFinished("error", "the database went away", 0.0))
    assert track.phase == "Failed"
    assert track.makespan_seconds == 0.2  # an error's 0.0 does not shorten it


def test_the_lower_bound_is_the_longer_of_the_chain_and_the_spread_work() -> None:
    graph = _graph()
    # The chain a -> b (10 + 20) beats the work spread over two agents ((10 + 20 + 6) / 2).
    assert measured_lower_bound(graph, {"a": 10.0, "b": 20.0, "c": 6.0}, 2) == 30.0
    # On one agent all work is sequential.
    assert measured_lower_bound(graph, {"a": 10.0, "b": 20.0, "c": 6.0}, 1) == 36.0
    assert measured_lower_bound(graph, {}, 3) == 0.0
