"""The expertise model: dedupe, three-way merge, line limit, pruning, prompt formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.expertise import (
    Expertise,
    Lesson,
    LessonKind,
    Provenance,
    dedupe,
    enforce_line_limit,
    estimate_tokens,
    format_for_prompt,
    line_count,
    merge,
    prune_stale,
    retention,
)
from yokeflow.core.expertise_markdown import render
from yokeflow.core.task_brief import TaskBrief

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def lesson(
    kind: LessonKind, text: str, day: date | None = None, fix: str | None = None, seen: int = 1
) -> Lesson:
    return Lesson(kind, text, fix=fix, provenance=Provenance("s1", "t1", day), seen=seen)


def test_text_is_one_clean_line() -> None:
    item = Lesson(LessonKind.TECHNIQUE, "  run\n the   tests \n")
    assert item.text == "run the tests"
    assert Lesson(LessonKind.CORE_FILE, "`src/app.py`").text == "src/app.py"
    assert Lesson(LessonKind.PATTERN, "Read → Edit", fix="ignored").fix is None


def test_dedupe_ignores_case_spacing_and_numbers_and_keeps_the_newest() -> None:
    old = lesson(LessonKind.FAILURE, "test.py:12: AssertionError", date(2026, 1, 1), fix="old fix")
    new = lesson(LessonKind.FAILURE, "test.py:40:  assertionerror", date(2026, 2, 1), fix="new fix")
    (one,) = dedupe([old, new])
    assert one.fix == "new fix"
    assert one.seen == 2
    assert one.provenance.date == date(2026, 2, 1)
    # the same text of another kind is another lesson
    assert len(dedupe([old, lesson(LessonKind.TECHNIQUE, old.text)])) == 2
    # other numbers in errors matter: two modules, two lessons
    assert (
        len(
            dedupe(
                [
                    lesson(LessonKind.FAILURE, "No module named app2"),
                    lesson(LessonKind.FAILURE, "No module named app3"),
                ]
            )
        )
        == 2
    )
    assert (
        len(
            dedupe(
                [
                    lesson(LessonKind.FAILURE, "1 failed in 0.07s at 0x7f3a"),
                    lesson(LessonKind.FAILURE, "1 failed in 1.2s at 0x7f3b"),
                ]
            )
        )
        == 1
    )
    # numbers matter outside failures: two files, two techniques
    assert (
        len(
            dedupe(
                [
                    lesson(LessonKind.CORE_FILE, "db/t1.sql"),
                    lesson(LessonKind.CORE_FILE, "db/t2.sql"),
                ]
            )
        )
        == 2
    )
    assert (
        len(
            dedupe(
                [
                    lesson(LessonKind.TECHNIQUE, "use v1 api"),
                    lesson(LessonKind.TECHNIQUE, "Use v2 API"),
                ]
            )
        )
        == 2
    )


def test_expertise_folds_repeats_when_lessons_are_added() -> None:
    e = Expertise("database", (lesson(LessonKind.CORE_FILE, "db/schema.py"),))
    e = e.with_lessons([lesson(LessonKind.CORE_FILE, "db/schema.py")])
    assert len(e.lessons) == 1
    assert e.lessons[0].seen == 2


def test_content_round_trip() -> None:
    e = Expertise(
        "api",
        (lesson(LessonKind.FAILURE, "boom", date(2026, 3, 1), fix="fixed"),),
        validated_at=NOW,
    )
    assert Expertise.from_content("api", e.to_content()) == e


def test_merge_keeps_both_sides_additions_and_respects_one_sided_deletes() -> None:
    kept = lesson(LessonKind.TECHNIQUE, "kept by both")
    dropped = lesson(LessonKind.FAILURE, "pruned by ours", date(2026, 1, 1))
    base = Expertise("api", (kept, dropped))
    ours = Expertise("api", (kept, lesson(LessonKind.PATTERN, "ours added")))
    theirs = Expertise("api", (kept, dropped, lesson(LessonKind.PATTERN, "theirs added")))
    merged = merge(base, ours, theirs)
    texts = {item.text for item in merged.lessons}
    assert texts == {"kept by both", "ours added", "theirs added"}


def test_merge_keeps_a_change_the_other_side_deleted_and_adds_counts() -> None:
    base_item = lesson(LessonKind.FAILURE, "boom", date(2026, 1, 1), fix="a", seen=2)
    base = Expertise("api", (base_item,))
    changed = Expertise(
        "api", (lesson(LessonKind.FAILURE, "boom", date(2026, 1, 2), fix="b", seen=3),)
    )
    assert merge(base, changed, Expertise("api")).lessons[0].fix == "b"
    both = merge(
        base,
        changed,
        Expertise("api", (lesson(LessonKind.FAILURE, "boom", date(2026, 1, 1), fix="a", seen=4),)),
    )
    assert both.lessons[0].seen == 3 + 4 - 2
    assert both.lessons[0].fix == "b"


texts = st.text(alphabet="abcdefgh ", min_size=1, max_size=6).filter(lambda s: s.strip())
lessons_st = st.builds(
    Lesson,
    kind=st.sampled_from(list(LessonKind)),
    text=texts,
    fix=st.none() | texts,
    provenance=st.builds(
        Provenance,
        session=st.sampled_from(["1", "2", None]),
        task=st.sampled_from(["a", "b", None]),
        date=st.none() | st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    ),
    seen=st.integers(1, 4),
)
expertise_st = st.builds(
    Expertise, domain=st.just("api"), lessons=st.lists(lessons_st, max_size=8).map(tuple)
)


@settings(max_examples=150, deadline=None)
@given(
    base=expertise_st,
    added_ours=st.lists(lessons_st, max_size=5),
    added_theirs=st.lists(lessons_st, max_size=5),
    drop=st.data(),
)
def test_merge_never_loses_a_lesson(
    base: Expertise,
    added_ours: list[Lesson],
    added_theirs: list[Lesson],
    drop: st.DataObject,
) -> None:
    # Each side removes some of base's lessons (pruning, a person's edit) and adds new ones.
    keep_ours = drop.draw(
        st.lists(st.booleans(), min_size=len(base.lessons), max_size=len(base.lessons))
    )
    keep_theirs = drop.draw(
        st.lists(st.booleans(), min_size=len(base.lessons), max_size=len(base.lessons))
    )
    ours = Expertise(
        "api", tuple(x for x, k in zip(base.lessons, keep_ours, strict=True) if k)
    ).with_lessons(added_ours)
    theirs = Expertise(
        "api", tuple(x for x, k in zip(base.lessons, keep_theirs, strict=True) if k)
    ).with_lessons(added_theirs)
    merged = merge(base, ours, theirs)
    keys = merged.keys()
    assert (ours.keys() - base.keys()) <= keys
    assert (theirs.keys() - base.keys()) <= keys
    assert (ours.keys() & theirs.keys()) <= keys
    # nothing appears that no side had, and nothing both sides removed comes back
    assert keys <= ours.keys() | theirs.keys()
    # merging is symmetric in which lessons survive
    assert merge(base, theirs, ours).keys() == keys


@settings(max_examples=200, deadline=None)
@given(e=expertise_st)
def test_line_count_matches_the_rendered_file(e: Expertise) -> None:
    assert line_count(e) == len(render(e).splitlines())


def many(kind: LessonKind, n: int, start: date) -> list[Lesson]:
    return [
        lesson(
            kind, f"{kind.value} {chr(97 + i % 26)}{chr(97 + i // 26)}", start + timedelta(days=i)
        )
        for i in range(n)
    ]


def test_line_limit_keeps_fresh_failures_over_old_core_files() -> None:
    """Pruning follows the ranking: value by kind (failures most) and age, across kinds."""
    start = date(2026, 1, 1)
    old_core = many(LessonKind.CORE_FILE, 200, start - timedelta(days=365))
    fresh_failures = many(LessonKind.FAILURE, 20, start)
    e = Expertise("api", (*fresh_failures, *old_core))
    cut, removed = enforce_line_limit(e, 100)
    assert line_count(cut) <= 100
    assert {r.kind for r in removed} == {LessonKind.CORE_FILE}
    assert cut.of_kind(LessonKind.FAILURE) == e.of_kind(LessonKind.FAILURE)
    # the oldest core files went first
    assert max(r.provenance.sort_date for r in removed) <= min(
        c.provenance.sort_date for c in cut.of_kind(LessonKind.CORE_FILE)
    )


def test_line_limit_drops_old_failures_before_fresh_core_files() -> None:
    start = date(2026, 6, 1)
    old_failures = many(LessonKind.FAILURE, 30, start - timedelta(days=400))
    fresh = [
        *many(LessonKind.CORE_FILE, 10, start),
        *many(LessonKind.PATTERN, 10, start),
        *many(LessonKind.TECHNIQUE, 10, start),
    ]
    e = Expertise("api", (*old_failures, *fresh))
    cut, removed = enforce_line_limit(e, line_count(e) - 10)
    assert {r.kind for r in removed} == {LessonKind.FAILURE}
    assert len(cut.of_kind(LessonKind.CORE_FILE)) == 10


def test_of_equally_old_lessons_the_least_valuable_kind_goes_first() -> None:
    day = date(2026, 3, 1)
    e = Expertise(
        "api",
        (
            *many(LessonKind.FAILURE, 10, day),
            *many(LessonKind.TECHNIQUE, 10, day),
            *many(LessonKind.PATTERN, 10, day),
            *many(LessonKind.CORE_FILE, 10, day),
        ),
    )
    cut, removed = enforce_line_limit(e, line_count(e) - 12)
    assert {r.kind for r in removed} == {LessonKind.CORE_FILE}
    cut, removed = enforce_line_limit(e, 10)
    assert line_count(cut) <= 10
    assert cut.of_kind(LessonKind.FAILURE)  # failures are worth most: they go last


@settings(max_examples=200, deadline=None)
@given(e=expertise_st, limit=st.integers(5, 40))
def test_nothing_kept_is_worth_less_than_anything_removed(e: Expertise, limit: int) -> None:
    cut, removed = enforce_line_limit(e, limit)
    dates = [x.provenance.date for x in e.lessons if x.provenance.date is not None]
    newest = max(dates, default=date.min)
    if removed and cut.lessons:
        assert (
            max(retention(r, newest) for r in removed)
            <= min(retention(k, newest) for k in cut.lessons) + 1e-9
            or line_count(cut) <= limit
        )


@settings(max_examples=200, deadline=None)
@given(e=expertise_st, limit=st.integers(5, 40))
def test_line_limit_always_holds_and_only_removes(e: Expertise, limit: int) -> None:
    cut, removed = enforce_line_limit(e, limit)
    assert line_count(cut) <= limit
    assert cut.keys() | {r.key for r in removed} == e.keys()
    assert len(cut.lessons) + len(removed) == len(e.lessons)


def test_prune_stale_removes_only_old_failures() -> None:
    old = lesson(LessonKind.FAILURE, "old", (NOW - timedelta(days=31)).date())
    edge = lesson(LessonKind.FAILURE, "edge", (NOW - timedelta(days=30)).date())
    undated = Lesson(LessonKind.FAILURE, "a person's note")
    old_pattern = lesson(LessonKind.PATTERN, "Read → Edit", (NOW - timedelta(days=90)).date())
    kept, removed = prune_stale(Expertise("api", (old, edge, undated, old_pattern)), NOW)
    assert removed == (old,)
    assert {x.text for x in kept.lessons} == {"edge", "a person's note", "Read → Edit"}


def test_format_for_prompt_ranks_by_relevance_and_fits_the_budget() -> None:
    e = Expertise(
        "database",
        (
            lesson(LessonKind.CORE_FILE, "web/unrelated.css", date(2026, 11, 1)),
            lesson(
                LessonKind.TECHNIQUE,
                "Run migrations before seeding the orders table",
                date(2026, 11, 1),
            ),
            lesson(
                LessonKind.FAILURE,
                "`pytest` failed: relation users does not exist",
                date(2026, 11, 2),
                fix="run the migration first",
            ),
            *many(LessonKind.PATTERN, 40, date(2026, 10, 1)),
        ),
    )
    task = TaskBrief("db-2", "Seed the orders table", "Insert demo orders after the migration")
    text = format_for_prompt(e, task, token_budget=120)
    assert text.startswith("## Lessons from earlier sessions (database)")
    assert estimate_tokens(text) <= 120
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    # the two lessons that share words with the task come first, the unrelated patterns after
    assert any("relation users does not exist" in line for line in lines[:2])
    assert any("Run migrations before seeding" in line for line in lines[:2])
    assert len(lines) < len(e.lessons)
    bare = format_for_prompt(e, task, token_budget=120, heading=False)
    assert bare.startswith("- ")
    assert estimate_tokens(bare) <= 120
    big = format_for_prompt(e, task, token_budget=10_000)
    assert len([line for line in big.splitlines() if line.startswith("- ")]) == len(e.lessons)


def test_format_for_prompt_prefers_named_files_and_is_empty_without_room() -> None:
    e = Expertise(
        "api",
        (
            lesson(LessonKind.CORE_FILE, "app/routes.py"),
            lesson(LessonKind.CORE_FILE, "app/other.py"),
        ),
    )
    text = format_for_prompt(e, TaskBrief("k", "Change app/routes.py"), token_budget=500)
    assert text.index("app/routes.py") < text.index("app/other.py")
    assert format_for_prompt(e, TaskBrief("k", "x"), token_budget=5) == ""
    assert format_for_prompt(Expertise("api"), TaskBrief("k", "x")) == ""
