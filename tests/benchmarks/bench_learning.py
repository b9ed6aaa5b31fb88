"""Benchmark of the learning and cost core: how long the per-session steps take.

Run: ``.venv/bin/python tests/benchmarks/bench_learning.py``. Prints one line per figure; every
step here runs once or twice per agent session, so anything under a few milliseconds is noise
next to a session's seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from yokeflow.core.budget import BudgetLedger
from yokeflow.core.complexity import analyze_complexity
from yokeflow.core.expertise import (
    Expertise,
    Lesson,
    LessonKind,
    Provenance,
    enforce_line_limit,
    estimate_tokens,
    format_for_prompt,
    line_count,
    merge,
)
from yokeflow.core.expertise_markdown import parse, render
from yokeflow.core.lessons import learn_from_session
from yokeflow.core.model_choice import ModelPolicy, choose_model
from yokeflow.core.task_brief import TaskBrief

FIXTURE = (
    Path(__file__).parents[1] / "unit" / "fixtures" / "adapter_transcript_failure_then_fix.jsonl"
)
NOW = datetime(2026, 11, 24, tzinfo=UTC)
TASK = TaskBrief(
    "db-2",
    "Add the orders table to the database schema",
    "Keep table names sorted; see db/schema.py",
)


def timed(label: str, repeat: int, step: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    per = (time.perf_counter() - start) / repeat
    print(f"{label:<52} {per * 1000:9.3f} ms")
    return per


def big_expertise(n: int) -> Expertise:
    kinds = list(LessonKind)
    return Expertise(
        "database",
        tuple(
            Lesson(
                kinds[i % 4],
                f"lesson {i} about table_{i} and the schema of orders",
                fix="sorted the names" if i % 4 == 0 else None,
                provenance=Provenance(str(i), f"t{i}", date(2026, 1, 1) + timedelta(days=i % 300)),
            )
            for i in range(n)
        ),
    )


def main() -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    timed(
        "learn_from_session (real 20-line transcript)",
        500,
        lambda: learn_from_session(lines, TASK, 1, NOW),
    )
    full = big_expertise(990)
    print(f"{'expertise of 990 lessons: lines':<52} {line_count(full):9d}")
    text = render(full)
    timed("render (990 lessons)", 50, lambda: render(full))
    timed("parse (990 lessons)", 50, lambda: parse(text))
    ours = full.with_lessons(big_expertise(1010).lessons[990:])
    theirs = Expertise("database", full.lessons[5:])
    timed("merge three-way (990 lessons)", 50, lambda: merge(full, ours, theirs))
    timed("enforce_line_limit 1000 (from 1030 lines)", 50, lambda: enforce_line_limit(ours, 1000))
    prompt = format_for_prompt(full, TASK, 600)
    timed(
        "format_for_prompt, 600-token budget (990 lessons)",
        50,
        lambda: format_for_prompt(full, TASK, 600),
    )
    print(
        f"{'prompt section: tokens (≈chars/4), bullets':<52} {estimate_tokens(prompt):9d} {prompt.count(chr(10) + '- '):5d}"
    )
    policy = ModelPolicy()
    timed(
        "analyze_complexity + choose_model",
        2000,
        lambda: choose_model(policy, analyze_complexity(TASK)),
    )
    ledger = BudgetLedger(limit=Decimal(10**9))

    def cycle() -> None:
        nonlocal ledger
        ledger = ledger.reserve("a", Decimal("0.5")).settle("a", Decimal("0.4"))

    timed("budget reserve + settle", 20000, cycle)


if __name__ == "__main__":
    main()
