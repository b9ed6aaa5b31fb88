"""The scheduler's fast path: :func:`yokeflow.core.schedule.decide` read from a run's indexes.

When the caller keeps a :class:`~yokeflow.core.run_states.RunStates` across the run and no task
is dead (failed for good, conflicted or blocked), :func:`decide_incrementally` answers from its
indexes in time proportional to what changed — step for step the same policy as the full path;
a test drives both on random runs and compares every answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from yokeflow.core import rollout
from yokeflow.core.actions import Action, MergeBatch, MergeTask, StartTask, WaitUntil, finish
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.limits import BudgetView, Limits
from yokeflow.core.run_estimates import rollout_model
from yokeflow.core.run_states import RunStates
from yokeflow.core.task_run import ACTIVE, TaskState

__all__ = ["decide_incrementally", "has_dead"]


def has_dead(view: RunStates, limits: Limits) -> bool:
    """Whether a task failed for good, conflicted or is blocked: what the incremental path
    leaves to the full one (blocking looks at every task; such runs are rare and short-lived)."""
    if view.count(TaskState.BLOCKED) or view.count(TaskState.CONFLICT):
        return True
    return any(view[k].attempts >= limits.max_attempts for k in view.keys_in(TaskState.FAILED))


def decide_incrementally(
    graph: DependencyGraph, view: RunStates, limits: Limits, budget: BudgetView, now: float
) -> list[Action]:
    """:func:`decide` for a run with nothing dead, read from the indexes of ``view``.

    Step for step the same policy as the full path below it in :func:`decide`; a test drives
    both on random runs and compares every answer.
    """
    actions: list[Action] = []
    eager = limits.schedule == "eager"
    batch_keys: Sequence[str] = ()
    if eager:
        actions.extend(MergeTask(k) for k in view.keys_in_run_order(TaskState.DONE))
    else:
        batch_no = view.first_unsettled_level()
        if batch_no < len(graph.batches):
            batch_keys = graph.batches[batch_no]
            unfinished = sum(
                view.level_count(batch_no, s)
                for s in (TaskState.PENDING, TaskState.RUNNING, TaskState.FAILED)
            )
            if (
                not unfinished
                and view.level_count(batch_no, TaskState.DONE)
                and not view.level_count(batch_no, TaskState.MERGING)
            ):
                done = tuple(k for k in batch_keys if view[k].state is TaskState.DONE)
                actions.append(MergeBatch(done, batch_no))
        else:
            batch_no = len(graph.batches)

    stop_launching = limits.cancelled
    running = view.count(TaskState.RUNNING)
    slots = limits.max_concurrency - running
    remaining = budget.remaining_usd
    budget_stopped = False
    next_retry: float | None = None
    if not stop_launching and slots > 0:
        durations = view.refined_durations()
        ranks = view.ranks()
        hold = eager and limits.hold_for_merges and not view.count(TaskState.RESOLVING)
        held: set[str] = set()
        retries: list[str] = []
        for key in view.keys_in(TaskState.FAILED):  # every failed one here has attempts left
            if view.waits(key, for_merges=not hold) or not view.has_batch(key):
                continue
            if not eager and view.level_of(key) != batch_no:
                continue
            r = view[key]
            if r.failed_at is not None:
                ready_at = r.failed_at + limits.retry_backoff * 2 ** max(r.attempts - 1, 0)
                if ready_at > now:
                    next_retry = ready_at if next_retry is None else min(next_retry, ready_at)
                    continue
            if view.waits(key, for_merges=True):
                held.add(key)
            retries.append(key)
        retries.sort(key=view.rank_position)
        stream = view.pending_by_rank() if eager else None
        try:
            candidates = _Candidates(
                iter(_batch_candidates(view, batch_keys, retries))
                if stream is None
                else _merge_by_rank(view, _startable(view, stream, hold, held), iter(retries))
            )
            model = None
            unstarted_count = view.count(TaskState.PENDING) + view.count(TaskState.FAILED)
            if eager and candidates.more_than(slots) and rollout.affordable(unstarted_count):
                unstarted = [
                    *view.keys_in(TaskState.PENDING),
                    *view.keys_in(TaskState.FAILED),
                ]
                model = rollout_model(
                    graph,
                    view,
                    unstarted,
                    limits,
                    durations,
                    ranks,
                    now,
                    view.keys_in(TaskState.RUNNING),
                )
            gain = rollout.required_gain(view.spread()) if model is not None else 0.0
            chosen: list[str] = []
            while candidates.more_than(0) and slots > 0:
                if model is None:
                    key = candidates.buffer[0]
                else:
                    # choose() reads the first MAX_CANDIDATES and min(len, MAX_CANDIDATES):
                    # the buffer holds that many, or every candidate there is.
                    candidates.more_than(rollout.MAX_CANDIDATES)
                    key = rollout.choose(model, candidates.buffer, chosen, min_gain=gain)
                candidates.buffer.remove(key)
                cost = budget.estimate(key)
                if remaining is not None and cost > remaining:
                    budget_stopped = True
                    continue
                if remaining is not None:
                    remaining -= cost
                chosen.append(key)
                slots -= 1
                r = view[key]
                if key in held:
                    continue
                actions.append(
                    StartTask(
                        key, r.attempts + 1, escalate=r.attempts > 0 and limits.escalate_on_retry
                    )
                )
                running += 1
        finally:
            if stream is not None:
                stream.close()  # puts back the candidates it took: the states stay as given

    busy = (
        running > 0
        or any(view.count(s) for s in ACTIVE)
        or any(isinstance(a, MergeTask | MergeBatch) for a in actions)
    )
    if not busy and not any(isinstance(a, StartTask) for a in actions):
        if next_retry is not None and not stop_launching:
            actions.append(WaitUntil(next_retry))
        else:
            actions.append(finish(view, limits, budget_stopped))
    return actions


class _Candidates:
    """Candidates in order, drawn from ``source`` only as far as they are looked at."""

    def __init__(self, source: Iterator[str]) -> None:
        self.buffer: list[str] = []
        self._source = source
        self._exhausted = False

    def more_than(self, count: int) -> bool:
        """Whether there are more than ``count`` candidates (drawing up to ``count + 1``)."""
        while len(self.buffer) <= count and not self._exhausted:
            key = next(self._source, None)
            if key is None:
                self._exhausted = True
            else:
                self.buffer.append(key)
        return len(self.buffer) > count


def _startable(view: RunStates, stream: Iterator[str], hold: bool, held: set[str]) -> Iterator[str]:
    """Pending tasks in rank order that may take a slot now (``held``: to wait for merges)."""
    for key in stream:
        if view.waits(key, for_merges=True):
            if not hold:
                continue
            held.add(key)
        yield key


def _merge_by_rank(view: RunStates, first: Iterator[str], second: Iterator[str]) -> Iterator[str]:
    a, b = next(first, None), next(second, None)
    while a is not None or b is not None:
        if b is None or (a is not None and view.rank_position(a) < view.rank_position(b)):
            assert a is not None
            yield a
            a = next(first, None)
        else:
            yield b
            b = next(second, None)


def _batch_candidates(view: RunStates, batch_keys: Sequence[str], retries: list[str]) -> list[str]:
    """The current batch's pending tasks whose dependencies are merged, and its retries."""
    retry = set(retries)
    out = [
        k
        for k in batch_keys
        if k in retry or (view[k].state is TaskState.PENDING and not view.waits(k, for_merges=True))
    ]
    out.sort(key=view.rank_position)
    return out
