"""Rollouts: the simulated rest of a run, and the choice they make between ready tasks."""

from __future__ import annotations

from yokeflow.core import rollout
from yokeflow.core.rollout import Model


def model(running: dict[str, float] | None = None, concurrency: int = 2) -> Model:
    # head (3) -> tail (2), plus long (8) and mid (6); listed in rank order.
    return Model(
        order=["long", "mid", "head", "tail"],
        minutes={"long": 8, "mid": 6, "head": 3, "tail": 2},
        waits_for={"tail": ["head"]},
        running=running or {},
        concurrency=concurrency,
    )


def test_the_rest_runs_by_rank_order_after_the_tasks_started_now() -> None:
    m = model()
    assert m.makespan(["long", "mid"]) == 11.0  # head 6-9, tail 9-11
    assert m.makespan(["long", "head"]) == 10.0  # mid 3-9 (it outranks tail), tail 8-10
    assert m.makespan(["head"]) == 10.0


def test_running_tasks_hold_their_slot_for_their_remaining_time() -> None:
    m = Model(
        order=["b"],
        minutes={"b": 5},
        waits_for={"b": ["a"]},
        running={"a": 1.5},
        concurrency=2,
    )
    assert m.makespan([]) == 6.5
    one_slot = Model(order=["x"], minutes={"x": 2}, waits_for={}, running={"a": 4}, concurrency=1)
    assert one_slot.makespan([]) == 6.0


def test_choose_deviates_from_rank_order_only_for_a_real_gain() -> None:
    m = model()
    assert rollout.choose(m, ["long", "mid", "head"]) == "head"
    assert rollout.choose(m, ["long", "mid"], chosen=["head"]) == "long"
    # Same makespan whatever is chosen: the first in rank order stays.
    flat = Model(
        order=["a", "b"], minutes={"a": 1, "b": 1}, waits_for={}, running={}, concurrency=1
    )
    assert rollout.choose(flat, ["a", "b"]) == "a"


def test_large_plans_are_left_to_the_rank_order() -> None:
    n = rollout.WORK_BUDGET  # one candidate's simulation already fills the budget
    keys = [f"t{i}" for i in range(n)]
    big = Model(
        order=keys, minutes=dict.fromkeys(keys, 1.0), waits_for={}, running={}, concurrency=2
    )
    assert not rollout.affordable(n)
    assert rollout.affordable(40)
    assert rollout.choose(big, keys[::-1]) == keys[-1]


def test_the_gain_asked_of_a_deviation_grows_with_the_estimates_spread() -> None:
    assert rollout.required_gain(0.0) == rollout.MIN_GAIN
    assert rollout.required_gain(None) == rollout.PRIOR_SPREAD / 4
    assert rollout.required_gain(0.2) == 0.05
    assert rollout.required_gain(3.0) == rollout.MAX_GAIN
    m = model()
    assert rollout.choose(m, ["long", "mid", "head"], min_gain=0.05) == "head"  # saves 9 %
    assert rollout.choose(m, ["long", "mid", "head"], min_gain=0.1) == "long"
