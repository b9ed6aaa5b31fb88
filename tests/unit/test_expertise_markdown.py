"""The markdown file of an expertise: rendering, parsing, round trip, a person's edits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.expertise import Expertise, Lesson, LessonKind, Provenance
from yokeflow.core.expertise_markdown import parse, render

words = st.text(alphabet="abcdefghij`.:/_-'\"[]=", min_size=1, max_size=12)
texts = st.lists(words, min_size=1, max_size=5).map(" ".join).filter(lambda s: s.strip(" `"))
lessons_st = st.builds(
    Lesson,
    kind=st.sampled_from(list(LessonKind)),
    text=texts,
    fix=st.none() | texts,
    provenance=st.builds(
        Provenance,
        session=st.sampled_from(["12", "abc", None]),
        task=st.sampled_from(["db-1", "api.2", None]),
        date=st.none() | st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    ),
    seen=st.integers(1, 9),
)
expertise_st = st.builds(
    Expertise,
    domain=st.sampled_from(["database", "api", "general"]),
    lessons=st.lists(lessons_st, max_size=10).map(tuple),
    validated_at=st.none() | st.just(datetime(2026, 11, 24, 5, 0, tzinfo=UTC)),
)


@settings(max_examples=150, deadline=None)
@given(e=expertise_st)
def test_round_trip(e: Expertise) -> None:
    assert parse(render(e)) == e


def test_rendered_file_reads_well() -> None:
    e = Expertise(
        "database",
        (
            Lesson(
                LessonKind.FAILURE,
                "`pytest` failed: boom",
                fix="sort it",
                provenance=Provenance("7", "db-1", date(2026, 11, 24)),
            ),
            Lesson(LessonKind.CORE_FILE, "db/schema.py", seen=3),
        ),
    )
    text = render(e)
    assert (
        "## Failures and fixes\n- `pytest` failed: boom → fix: sort it _(session 7, task db-1, 2026-11-24)_\n"
        in text
    )
    assert "## Core files\n- `db/schema.py` _(seen 3×)_\n" in text
    assert "## Tool patterns" not in text


def test_a_persons_edits_are_picked_up() -> None:
    e = Expertise(
        "database",
        (
            Lesson(
                LessonKind.FAILURE,
                "boom",
                fix="sort it",
                provenance=Provenance("7", "db-1", date(2026, 11, 24)),
            ),
            Lesson(LessonKind.TECHNIQUE, "delete me"),
        ),
    )
    edited = (
        render(e)
        .replace("- delete me\n", "")
        .replace(
            "## Failures and fixes\n",
            "## Failures and fixes\n* psql hangs (see notes) -> fix: pass -w\n  so it never prompts\n",
        )
    )
    edited += "\n## Notes from Ana\n- Keep migrations reversible\n"
    got = parse(edited)
    assert [(x.kind, x.text, x.fix) for x in got.lessons] == [
        (LessonKind.FAILURE, "psql hangs (see notes)", "pass -w so it never prompts"),
        (LessonKind.FAILURE, "boom", "sort it"),
        (LessonKind.TECHNIQUE, "Keep migrations reversible", None),
    ]
    assert got.lessons[0].provenance == Provenance()


def test_a_file_without_the_marker_uses_the_title_or_the_given_domain() -> None:
    assert parse("# Expertise: api\n\n## Techniques\n- x\n").domain == "api"
    assert parse("## Techniques\n- x\n", domain="frontend").domain == "frontend"
    assert parse("").lessons == ()
