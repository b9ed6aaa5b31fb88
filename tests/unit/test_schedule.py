"""The pure scheduler: policies, limits, retries, failures, budget and cancellation."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.graph import DependencyGraph, GraphTask, resolve
from yokeflow.core.schedule import (
    BudgetView,
    Finish,
    Limits,
    MarkBlocked,
    MergeBatch,
    MergeTask,
    StartTask,
    TaskRun,
    TaskState,
    WaitUntil,
    decide,
    forecast,
)
from yokeflow.core.simulation import lower_bound, simulate

S = TaskState


def chain_and_fan() -> DependencyGraph:
    # a -> b -> c (long chain), plus independent x, y (short)
    return resolve(
        [
            GraphTask("a", "e", estimate_minutes=10),
            GraphTask("b", "e", depends_on=("a",), estimate_minutes=10),
            GraphTask("c", "e", depends_on=("b",), estimate_minutes=10),
            GraphTask("x", "e", estimate_minutes=1),
            GraphTask("y", "e", estimate_minutes=1),
        ]
    )


def test_eager_starts_the_highest_rank_first_within_the_limit() -> None:
    graph = chain_and_fan()
    actions = decide(graph, {}, Limits(max_concurrency=2))
    assert actions == [StartTask("a", 1), StartTask("x", 1)]


def test_running_tasks_use_up_slots() -> None:
    graph = chain_and_fan()
    states = {"a": TaskRun(S.RUNNING, 1), "x": TaskRun(S.RUNNING, 1)}
    assert decide(graph, states, Limits(max_concurrency=2)) == []


def test_a_finished_task_is_merged_then_unlocks_its_dependents() -> None:
    graph = chain_and_fan()
    # b (rank 20) outranks x (rank 1) and waits only for a's merge: the slot is held for it.
    states = {"a": TaskRun(S.DONE, 1)}
    assert decide(graph, states, Limits(max_concurrency=1)) == [MergeTask("a")]
    states = {"a": TaskRun(S.MERGING, 1)}
    assert decide(graph, states, Limits(max_concurrency=1)) == []
    states = {"a": TaskRun(S.MERGED, 1)}
    assert decide(graph, states, Limits(max_concurrency=1)) == [StartTask("b", 1)]


def test_no_slot_is_held_when_merges_are_slow() -> None:
    graph = chain_and_fan()
    states = {"a": TaskRun(S.MERGING, 1)}
    limits = Limits(max_concurrency=1, hold_for_merges=False)
    assert decide(graph, states, limits) == [StartTask("x", 1)]


def test_a_conflict_resolution_under_way_holds_no_slot() -> None:
    # An agent resolving a's conflict may take minutes: x takes the slot meanwhile.
    graph = chain_and_fan()
    states = {"a": TaskRun(S.RESOLVING, 1)}
    assert decide(graph, states, Limits(max_concurrency=1)) == [StartTask("x", 1)]


def test_batches_never_hold_a_slot_for_a_landing_merge() -> None:
    graph = chain_and_fan()
    states = {"a": TaskRun(S.MERGING, 1)}
    limits = Limits(max_concurrency=1, schedule="batches")
    assert decide(graph, states, limits) == [StartTask("x", 1)]


def test_the_rollout_takes_a_lower_rank_when_it_packs_the_slots_better() -> None:
    # Two agents. By rank alone (long 8, mid 6, head 5, tail 2): long and mid first, then head
    # and its tail one after the other: 11 minutes. Starting head beside long lets the tail
    # follow at once and mid fill the gap: 10 minutes (the bound is 9.5).
    graph = resolve(
        [
            GraphTask("long", "e", estimate_minutes=8),
            GraphTask("mid", "e", estimate_minutes=6),
            GraphTask("head", "e", estimate_minutes=3),
            GraphTask("tail", "e", depends_on=("head",), estimate_minutes=2),
        ]
    )
    ranks = graph.ranks()
    assert sorted(ranks, key=lambda k: -ranks[k])[:2] == ["long", "mid"]
    assert set(decide(graph, {}, Limits(max_concurrency=2))) == {
        StartTask("long", 1),
        StartTask("head", 1),
    }
    assert simulate(graph, 2).makespan == 10.0


def test_the_rollout_asks_more_of_a_deviation_when_estimates_have_been_off() -> None:
    # The same plan as above (a deviation gains 1 of 11 minutes, 9 %), beside two tasks of an
    # earlier epic already measured: on estimate, or off by 3x either way.
    tasks = [
        GraphTask("long", "e", estimate_minutes=8),
        GraphTask("mid", "e", estimate_minutes=6),
        GraphTask("head", "e", estimate_minutes=3),
        GraphTask("tail", "e", depends_on=("head",), estimate_minutes=2),
        GraphTask("m1", "past", estimate_minutes=1),
        GraphTask("m2", "past", estimate_minutes=1),
    ]
    graph = resolve(tasks)
    limits = Limits(max_concurrency=2)

    def measured(first: float, second: float) -> dict[str, TaskRun]:
        return {
            "m1": TaskRun(S.MERGED, 1, duration=first),
            "m2": TaskRun(S.MERGED, 1, duration=second),
        }

    assert StartTask("head", 1) in decide(graph, measured(1.0, 1.0), limits)
    assert set(decide(graph, measured(1 / 3, 3.0), limits)) == {
        StartTask("long", 1),
        StartTask("mid", 1),
    }


def test_running_tasks_count_with_their_remaining_time() -> None:
    # Two agents; "build" (10 min, then "check") runs. Just started, it bounds the run at 15
    # whatever else happens, and the rank order ("setup" first) is kept. With half a minute
    # left, its slot frees at once: "docs" now, "setup" in that slot, ends at 10 instead of 10.5.
    graph = resolve(
        [
            GraphTask("build", "e", estimate_minutes=10),
            GraphTask("check", "e", depends_on=("build",), estimate_minutes=5),
            GraphTask("setup", "e", estimate_minutes=2),
            GraphTask("deploy", "e", depends_on=("setup",), estimate_minutes=5),
            GraphTask("docs", "e", estimate_minutes=5),
        ]
    )
    states = {"build": TaskRun(S.RUNNING, 1, started_at=60.0)}
    limits = Limits(max_concurrency=2)
    assert decide(graph, states, limits, now=60.0) == [StartTask("setup", 1)]
    assert decide(graph, states, limits, now=60.0 + 9.5 * 60) == [StartTask("docs", 1)]


def test_batches_wait_for_the_whole_level_then_merge_it_together() -> None:
    graph = chain_and_fan()
    limits = Limits(max_concurrency=3, schedule="batches")
    assert decide(graph, {}, limits) == [StartTask("a", 1), StartTask("x", 1), StartTask("y", 1)]
    states = {"a": TaskRun(S.DONE, 1), "x": TaskRun(S.DONE, 1), "y": TaskRun(S.RUNNING, 1)}
    assert decide(graph, states, limits) == []
    states["y"] = TaskRun(S.DONE, 1)
    assert decide(graph, states, limits) == [MergeBatch(("a", "x", "y"), 0)]
    merged = {k: TaskRun(S.MERGED, 1) for k in ("a", "x", "y")}
    assert decide(graph, merged, limits) == [StartTask("b", 1)]


def test_a_failed_attempt_is_retried_after_backoff_on_a_stronger_model() -> None:
    graph = resolve([GraphTask("a", "e")])
    limits = Limits(max_attempts=3, retry_backoff=5)
    failed = {"a": TaskRun(S.FAILED, 1, failed_at=100.0)}
    assert decide(graph, failed, limits, now=101.0) == [WaitUntil(105.0)]
    assert decide(graph, failed, limits, now=105.0) == [StartTask("a", 2, escalate=True)]
    twice = {"a": TaskRun(S.FAILED, 2, failed_at=100.0)}
    assert decide(graph, twice, limits, now=105.0) == [WaitUntil(110.0)]


def test_a_task_that_fails_for_good_blocks_its_dependents_and_others_go_on() -> None:
    graph = chain_and_fan()
    states = {"a": TaskRun(S.FAILED, 2, failed_at=0.0)}
    actions = decide(graph, states, Limits(max_concurrency=3, max_attempts=2))
    assert MarkBlocked("b", "a") in actions
    assert MarkBlocked("c", "b") in actions
    assert [a for a in actions if isinstance(a, StartTask)] == [
        StartTask("x", 1),
        StartTask("y", 1),
    ]


def test_fail_fast_stops_launching_and_finishes_failed() -> None:
    graph = chain_and_fan()
    states = {"x": TaskRun(S.FAILED, 1, failed_at=0.0)}
    actions = decide(graph, states, Limits(max_concurrency=3, max_attempts=1, fail_fast=True))
    assert not [a for a in actions if isinstance(a, StartTask)]
    assert isinstance(actions[-1], Finish)
    assert actions[-1].outcome == "failed"
    assert "not started (fail-fast)" in actions[-1].reason


def test_a_merge_conflict_blocks_dependents() -> None:
    graph = chain_and_fan()
    actions = decide(graph, {"a": TaskRun(S.CONFLICT, 1)}, Limits(max_concurrency=1))
    assert MarkBlocked("b", "a") in actions


def test_the_budget_stops_launching_and_ends_the_run() -> None:
    graph = resolve([GraphTask("a", "e"), GraphTask("b", "e"), GraphTask("c", "e")])
    budget = BudgetView(remaining_usd=1.0, estimates={"a": 0.6, "b": 0.6, "c": 0.6})
    assert decide(graph, {}, Limits(max_concurrency=3), budget) == [StartTask("a", 1)]
    after = {"a": TaskRun(S.MERGED, 1)}
    spent = BudgetView(remaining_usd=0.3, estimates=budget.estimates)
    actions = decide(graph, after, Limits(max_concurrency=3), spent)
    assert actions == [Finish("budget_exhausted", "budget exhausted with 1/3 tasks merged")]


def test_cancellation_starts_nothing_and_finishes_once_idle() -> None:
    graph = chain_and_fan()
    limits = Limits(cancelled=True)
    assert decide(graph, {"a": TaskRun(S.RUNNING, 1)}, limits) == []
    assert decide(graph, {"a": TaskRun(S.MERGED, 1)}, limits) == [
        Finish("cancelled", "cancelled with 1/5 tasks merged")
    ]


def test_all_merged_is_success() -> None:
    graph = chain_and_fan()
    states = {k: TaskRun(S.MERGED, 1) for k in graph.tasks}
    assert decide(graph, states, Limits()) == [Finish("succeeded", "all 5 tasks merged")]


def test_measured_durations_refine_the_ranks() -> None:
    # Epic "slow" turned out 10x slower than estimated, "fast" as estimated: slow's remaining
    # task now outranks fast's.
    graph = resolve(
        [
            GraphTask("s1", "slow", estimate_minutes=1),
            GraphTask("s2", "slow", estimate_minutes=1),
            GraphTask("f0", "fast", estimate_minutes=1),
            GraphTask("f1", "fast", estimate_minutes=5),
        ]
    )
    states = {"s1": TaskRun(S.MERGED, 1, duration=10.0), "f0": TaskRun(S.MERGED, 1, duration=1.0)}
    assert decide(graph, states, Limits(max_concurrency=1)) == [StartTask("s2", 1)]
    assert decide(graph, {}, Limits(max_concurrency=1))[0] == StartTask("f1", 1)


def test_an_unmeasured_epic_goes_at_the_runs_overall_pace() -> None:
    # Only "slow" is measured (10x): "fast" is assumed 10x off too, so the order stays.
    graph = resolve(
        [
            GraphTask("s1", "slow", estimate_minutes=1),
            GraphTask("s2", "slow", estimate_minutes=1),
            GraphTask("f1", "fast", estimate_minutes=5),
        ]
    )
    states = {"s1": TaskRun(S.MERGED, 1, duration=10.0)}
    assert decide(graph, states, Limits(max_concurrency=1)) == [StartTask("f1", 1)]
    assert forecast(graph, states, Limits(max_concurrency=1)) == 60.0


@st.composite
def dags(draw: st.DrawFn) -> DependencyGraph:
    n = draw(st.integers(1, 25))
    tasks = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        tasks.append(
            GraphTask(
                f"t{i}",
                f"e{draw(st.integers(0, 2))}",
                depends_on=tuple(f"t{j}" for j in deps),
                estimate_minutes=draw(st.integers(1, 20)),
            )
        )
    return resolve(tasks)


@settings(max_examples=150, deadline=None)
@given(dags(), st.integers(1, 6), st.sampled_from(["eager", "batches"]))
def test_simulated_schedules_are_valid(
    graph: DependencyGraph, concurrency: int, policy: Literal["eager", "batches"]
) -> None:
    result = simulate(graph, concurrency, policy)
    assert len(result.schedule) == len(graph.tasks)
    start = {s.task: s.start for s in result.schedule}
    end = {s.task: s.end for s in result.schedule}
    for key in graph.tasks:
        for dep in graph.hard_dependencies(key):
            assert start[key] >= end[dep], f"{key} started before {dep} ended"
    points = sorted({*start.values()})
    for t in points:
        at_once = sum(1 for s in result.schedule if s.start <= t < s.end)
        assert at_once <= concurrency
    assert result.makespan >= lower_bound(graph, concurrency) - 1e-9
    if policy == "batches":
        batch_of = {k: i for i, b in enumerate(graph.batches) for k in b}
        for a in result.schedule:
            for b in result.schedule:
                if batch_of[b.task] > batch_of[a.task]:
                    assert b.start >= a.end


def test_the_forecast_is_the_rest_of_the_run_simulated() -> None:
    graph = chain_and_fan()  # a -> b -> c, 10 minutes each, beside x and y of 1 minute
    limits = Limits(max_concurrency=2)
    assert forecast(graph, {}, limits) == 30.0  # the chain, not the work / 2 (16)
    halfway = {"a": TaskRun(S.RUNNING, 1, started_at=0.0)}
    assert forecast(graph, halfway, limits, now=5 * 60) == 25.0
    # a took twice its estimate: the epic's other tasks are expected to as well.
    slow = {"a": TaskRun(S.MERGED, 1, duration=20.0)}
    assert forecast(graph, slow, limits) == 40.0
    done = {k: TaskRun(S.MERGED, 1) for k in graph.tasks}
    assert forecast(graph, done, limits) == 0.0


# Blocked is re-evaluated on every call: (states of a, b, c) -> (blocks, starts)
REEVALUATED = [
    # a failed for good: b and c are blocked, x and y go on.
    ({"a": TaskRun(S.FAILED, 2)}, [("b", "a"), ("c", "b")], ["x", "y"]),
    # ... even when b already had an attempt (a parked task whose dependency then failed).
    ({"a": TaskRun(S.FAILED, 2), "b": TaskRun(S.PENDING, 1)}, [("b", "a"), ("c", "b")], ["x", "y"]),
    # a was given new attempts (`yokeflow retry`): b and c are no longer dead; a starts again.
    (
        {"a": TaskRun(S.PENDING, 0), "b": TaskRun(S.BLOCKED), "c": TaskRun(S.BLOCKED)},
        [],
        ["a", "x", "y"],
    ),
    # a merged meanwhile: the blocked b starts (c still waits for b).
    (
        {"a": TaskRun(S.MERGED, 1), "b": TaskRun(S.BLOCKED), "c": TaskRun(S.BLOCKED)},
        [],
        ["b", "x", "y"],
    ),
    # Still dead: stays blocked, nothing to mark again.
    (
        {"a": TaskRun(S.FAILED, 2), "b": TaskRun(S.BLOCKED), "c": TaskRun(S.BLOCKED)},
        [],
        ["x", "y"],
    ),
    # A conflict blocks like a failure.
    ({"a": TaskRun(S.CONFLICT, 1)}, [("b", "a"), ("c", "b")], ["x", "y"]),
]


@pytest.mark.parametrize(("states", "blocks", "starts"), REEVALUATED)
def test_blocked_tasks_are_re_evaluated_on_every_call(
    states: dict[str, TaskRun], blocks: list[tuple[str, str]], starts: list[str]
) -> None:
    actions = decide(chain_and_fan(), states, Limits(max_concurrency=3, max_attempts=2))
    assert [(a.key, a.because) for a in actions if isinstance(a, MarkBlocked)] == blocks
    assert sorted(a.key for a in actions if isinstance(a, StartTask)) == starts
