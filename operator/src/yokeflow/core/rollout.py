"""Rollout: choosing which ready task takes a free slot by simulating where each choice leads.

The eager policy's base rule is "highest critical-path rank first". That rule is blind to how
the remaining work packs onto the slots: a short task of high rank can leave agents idle later
while a lower-ranked one would have kept them busy. A *rollout* (Bertsekas) fixes that cheaply:
for each of the first few candidates in rank order, simulate the rest of the run — that task
started now, everything after it by the base rule, running tasks ending when their estimates
say — and take the candidate whose simulated run ends first.

Two guards keep it honest when estimates are wrong (they always are, a little):

* a candidate other than the rank rule's first choice is taken only when its simulated run ends
  sooner by a margin that grows with how far off the estimates have turned out
  (:func:`required_gain`: 1 % of the remaining horizon for estimates that hold, up to 10 % for
  wild ones — with noisy estimates the rank rule alone does as well, and a deviation must pay
  for the risk that the estimates behind it are wrong);
* the work is bounded (:data:`WORK_BUDGET` candidate-simulations × tasks per choice); on plans
  too large for that the base rule decides alone.

Pure: estimates and the state come in as arguments; nothing here does I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

__all__ = [
    "MAX_CANDIDATES",
    "MAX_GAIN",
    "MIN_GAIN",
    "PRIOR_SPREAD",
    "WORK_BUDGET",
    "Model",
    "affordable",
    "choose",
    "required_gain",
]

MAX_CANDIDATES = 8
"""At most this many candidates (the first in rank order) are simulated per choice."""

WORK_BUDGET = 2000
"""Candidates × unfinished tasks simulated per choice; beyond it fewer candidates, then none."""

MIN_GAIN = 0.01
"""The least share of the remaining horizon a deviation from rank order must save."""

MAX_GAIN = 0.1
"""The most it must save, however noisy the estimates."""

PRIOR_SPREAD = 0.1
"""The spread of log(measured / estimated) assumed until two durations are measured."""


@dataclass(frozen=True)
class Model:
    """The unfinished part of a run, in minutes from now.

    ``order`` lists every unstarted task in the base rule's order (rank first); ``waits_for``
    maps each of them to its unfinished hard dependencies (running or unstarted); ``running``
    maps each running task to its expected remaining minutes. Tasks whose work is done (merged,
    or finished and waiting to be merged) appear nowhere: for planning, they are complete.
    """

    order: Sequence[str]
    minutes: Mapping[str, float]
    waits_for: Mapping[str, Sequence[str]]
    running: Mapping[str, float]
    concurrency: int

    @cached_property
    def _structure(self) -> tuple[dict[str, int], dict[str, list[str]], dict[str, int]]:
        """Each unstarted task's place in the order, the tasks waiting for each task, and how
        many unfinished dependencies each has — the same for every simulation of this model."""
        position = {key: i for i, key in enumerate(self.order)}
        dependents: dict[str, list[str]] = {}
        missing: dict[str, int] = {}
        for key in self.order:
            deps = self.waits_for.get(key, ())
            missing[key] = len(deps)
            for dep in deps:
                dependents.setdefault(dep, []).append(key)
        return position, dependents, missing

    def makespan(self, start_now: Sequence[str]) -> float:
        """When the run would end with ``start_now`` started at once, the rest by rank order."""
        position, dependents, initial = self._structure
        missing = dict(initial)
        ends: list[tuple[float, int, str]] = []
        seq = 0
        for key, left in self.running.items():
            heapq.heappush(ends, (left, seq, key))
            seq += 1
        started = set(start_now)
        for key in start_now:
            heapq.heappush(ends, (self.minutes[key], seq, key))
            seq += 1
        ready = [
            (position[key], key) for key in self.order if missing[key] == 0 and key not in started
        ]
        heapq.heapify(ready)
        now = 0.0
        while ends or ready:
            while ready and len(ends) < self.concurrency:
                _, key = heapq.heappop(ready)
                heapq.heappush(ends, (now + self.minutes[key], seq, key))
                seq += 1
            if not ends:  # nothing runs and nothing fits: only when concurrency < 1
                break
            now, _, done = heapq.heappop(ends)
            for dependent in dependents.get(done, ()):
                missing[dependent] -= 1
                if missing[dependent] == 0 and dependent not in started:
                    heapq.heappush(ready, (position[dependent], dependent))
        return now


def _width(unstarted: int, candidates: int) -> int:
    return min(MAX_CANDIDATES, candidates, WORK_BUDGET // max(1, unstarted))


def affordable(unstarted: int) -> bool:
    """Whether a plan with this many unstarted tasks is small enough for rollouts."""
    return _width(unstarted, MAX_CANDIDATES) >= 2


def required_gain(spread: float | None) -> float:
    """The share of the remaining horizon a deviation must save, given the spread (standard
    deviation) of log(measured / estimated duration) seen so far; None: nothing measured."""
    sigma = PRIOR_SPREAD if spread is None else spread
    return min(MAX_GAIN, max(MIN_GAIN, sigma / 4))


def choose(
    model: Model,
    candidates: Sequence[str],
    chosen: Sequence[str] = (),
    *,
    min_gain: float = MIN_GAIN,
) -> str:
    """The candidate to start next, ``chosen`` being already picked for this round.

    ``candidates`` are in the base rule's order and non-empty; the first one is the answer
    unless a rollout finds one that ends the run at least ``min_gain`` of the remaining
    horizon sooner.
    """
    first = candidates[0]
    width = _width(len(model.order), len(candidates))
    if width < 2:
        return first
    spans = [model.makespan([*chosen, key]) for key in candidates[:width]]
    best = min(range(width), key=lambda i: (spans[i], i))
    if spans[best] < spans[0] * (1 - min_gain):
        return candidates[best]
    return first
