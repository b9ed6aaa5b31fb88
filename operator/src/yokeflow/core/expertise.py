"""Expertise: itemized lessons about one domain of a project, and the rules that keep them useful.

A :class:`Lesson` is one bullet — a failure and its fix, a tool pattern, a technique, or a core
file — with its provenance (session, task, date) and how often it was seen. An
:class:`Expertise` is a domain's lessons. Everything here is pure: lessons are deduplicated by
a normalized key, merged three ways (:func:`merge`, so concurrent sessions never lose one),
pruned when stale (:func:`prune_stale`, given ``now``), capped (:func:`enforce_line_limit`) and
turned into a small, relevance-ranked prompt section (:func:`format_for_prompt`). The markdown
file people read and edit is :mod:`yokeflow.core.expertise_markdown`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from yokeflow.core.domains import DOMAIN_KEYWORDS, DOMAINS, classify_domain
from yokeflow.core.task_brief import TaskBrief, words

__all__ = [
    "DOMAINS",
    "DOMAIN_KEYWORDS",
    "KIND_ORDER",
    "STALE_AFTER",
    "Expertise",
    "Lesson",
    "LessonKind",
    "Provenance",
    "classify_domain",
    "dedupe",
    "enforce_line_limit",
    "estimate_tokens",
    "format_for_prompt",
    "line_count",
    "merge",
    "prune_stale",
    "retention",
]

STALE_AFTER = timedelta(days=30)
"""Failure lessons older than this are pruned by :func:`prune_stale`."""
HEADER_LINES = 5
"""Lines of the markdown file before its first section (title, marker, intro, blanks)."""
MAX_TEXT = 400
"""A lesson's text (and fix) is cut to this many characters."""


class LessonKind(StrEnum):
    """What a lesson is about."""

    FAILURE = "failure"
    """Something failed (with its error message) and, when the session found one, the fix."""
    PATTERN = "pattern"
    """A sequence of tools that got a task done (``Read → Edit → Bash(pytest)``)."""
    TECHNIQUE = "technique"
    """An approach that worked, in a sentence."""
    CORE_FILE = "core_file"
    """A file that matters for the domain."""


KIND_ORDER: tuple[LessonKind, ...] = (
    LessonKind.FAILURE,
    LessonKind.PATTERN,
    LessonKind.TECHNIQUE,
    LessonKind.CORE_FILE,
)
"""The order of the markdown sections (and of lessons of equal rank)."""

_TOKEN_CHARS = re.compile(r"[\s,()]+")
_SPACE = re.compile(r"\s+")
_VOLATILE = re.compile(r"(?<=:)\d+|(?<=line )\d+|\b\d+(?:\.\d+)?(?=m?s\b)|0x[0-9a-f]+")
"""Numbers that change between runs of the same failure: line numbers (``file.py:12``,
``line 12``), durations (``in 0.07s``, ``30ms``) and addresses (``0x7f3a…``)."""


def _ident(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = _TOKEN_CHARS.sub("-", value.strip()).strip("-")
    return cleaned or None


def _clean(text: str) -> str:
    """One line, single spaces, at most :data:`MAX_TEXT` characters."""
    one = _SPACE.sub(" ", text).strip()
    return one if len(one) <= MAX_TEXT else one[: MAX_TEXT - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a lesson came from. All parts are optional: a person's note may have none."""

    session: str | None = None
    task: str | None = None
    date: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", _ident(self.session))
        object.__setattr__(self, "task", _ident(self.task))

    @property
    def sort_date(self) -> dt.date:
        """The lesson's date for "oldest first"; an undated note (a person's) counts as newest."""
        return self.date or date.max


@dataclass(frozen=True, slots=True)
class Lesson:
    """One itemized lesson; text is one line (newlines and runs of spaces collapse)."""

    kind: LessonKind
    text: str
    """The error of a failure, the steps of a pattern, a technique's sentence, a file's path."""
    fix: str | None = None
    """What fixed a failure (failures only)."""
    provenance: Provenance = field(default_factory=Provenance)
    seen: int = 1
    """How many sessions produced this lesson."""
    _key: tuple[str, str] = field(default=("", ""), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.text.replace("`", "") if self.kind is LessonKind.CORE_FILE else self.text
        text = _clean(raw)
        if not text:
            raise ValueError("a lesson needs text")
        object.__setattr__(self, "text", text)
        fix = None if self.fix is None else _clean(self.fix)
        object.__setattr__(self, "fix", (fix or None) if self.kind is LessonKind.FAILURE else None)
        object.__setattr__(self, "seen", max(1, self.seen))
        object.__setattr__(self, "_key", self._normalized_key())

    @property
    def key(self) -> tuple[str, str]:
        """What makes two lessons the same: the kind and the text, normalized.

        Case and trailing punctuation are ignored; for failures so are the numbers that change
        from run to run (line numbers, durations, addresses), so the same error seen twice with
        a different line number is one lesson, and a failure's fix is not part of its key (the
        newer fix replaces the older). A core file's key is its exact path.
        """
        return self._key

    def _normalized_key(self) -> tuple[str, str]:
        if self.kind is LessonKind.CORE_FILE:
            return (self.kind.value, self.text)
        norm = self.text.lower().rstrip(" .;:")
        if self.kind is LessonKind.FAILURE:
            norm = _VOLATILE.sub("#", norm)
        return (self.kind.value, norm)

    def combine(self, other: Lesson) -> Lesson:
        """The same lesson seen again: counts add up, the newer provenance (and fix) wins."""
        newer, older = (
            (other, self)
            if other.provenance.sort_date >= self.provenance.sort_date
            else (self, other)
        )
        return replace(
            newer,
            fix=newer.fix or older.fix,
            seen=self.seen + other.seen,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (what the database stores)."""
        p = self.provenance
        return {
            "kind": self.kind.value,
            "text": self.text,
            "fix": self.fix,
            "session": p.session,
            "task": p.task,
            "date": None if p.date is None else p.date.isoformat(),
            "seen": self.seen,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lesson:
        day = data.get("date")
        return cls(
            kind=LessonKind(data["kind"]),
            text=str(data["text"]),
            fix=data.get("fix"),
            provenance=Provenance(
                session=data.get("session"),
                task=data.get("task"),
                date=None if not day else date.fromisoformat(str(day)),
            ),
            seen=int(data.get("seen", 1)),
        )


def dedupe(lessons: Iterable[Lesson]) -> tuple[Lesson, ...]:
    """Lessons with the same key folded into one (first occurrence keeps its place)."""
    out: dict[tuple[str, str], Lesson] = {}
    for lesson in lessons:
        known = out.get(lesson.key)
        out[lesson.key] = lesson if known is None else known.combine(lesson)
    return tuple(out.values())


@dataclass(frozen=True, slots=True)
class Expertise:
    """Everything learned about one domain: its lessons (deduplicated) and when it was validated."""

    domain: str
    lessons: tuple[Lesson, ...] = ()
    validated_at: datetime | None = None

    def __post_init__(self) -> None:
        # Canonical order: by kind (the file's sections), then first appearance.
        ordered = sorted(dedupe(self.lessons), key=lambda item: KIND_ORDER.index(item.kind))
        object.__setattr__(self, "lessons", tuple(ordered))

    def of_kind(self, kind: LessonKind) -> tuple[Lesson, ...]:
        return tuple(lesson for lesson in self.lessons if lesson.kind is kind)

    def with_lessons(self, lessons: Iterable[Lesson]) -> Expertise:
        """These lessons added (repeats folded into the known ones)."""
        return replace(self, lessons=(*self.lessons, *lessons))

    def keys(self) -> set[tuple[str, str]]:
        return {lesson.key for lesson in self.lessons}

    def to_content(self) -> dict[str, Any]:
        """The JSON document stored in ``expertise_files.content``."""
        return {
            "domain": self.domain,
            "validated_at": None if self.validated_at is None else self.validated_at.isoformat(),
            "lessons": [lesson.to_dict() for lesson in self.lessons],
        }

    @classmethod
    def from_content(cls, domain: str, content: Mapping[str, Any]) -> Expertise:
        validated = content.get("validated_at")
        return cls(
            domain=domain,
            lessons=tuple(Lesson.from_dict(item) for item in content.get("lessons", ())),
            validated_at=None if not validated else datetime.fromisoformat(str(validated)),
        )


def _pick(base: Any, ours: Any, theirs: Any) -> Any:
    """Three-way choice of one value: whichever side changed it (ours when both did)."""
    return theirs if ours == base else ours


def _merge_one(base: Lesson | None, ours: Lesson, theirs: Lesson) -> Lesson:
    if base is None:  # both added it independently
        return ours.combine(theirs)
    if theirs == base:  # only one side (or neither) changed it: no need to mix fields
        return ours
    if ours == base:
        return theirs
    return Lesson(
        kind=ours.kind,
        text=_pick(base.text, ours.text, theirs.text),
        fix=_pick(base.fix, ours.fix, theirs.fix),
        provenance=_pick(base.provenance, ours.provenance, theirs.provenance),
        seen=ours.seen + theirs.seen - base.seen,
    )


def merge(base: Expertise, ours: Expertise, theirs: Expertise) -> Expertise:
    """Three-way merge of two versions of an expertise that both started from ``base``.

    Never loses a lesson: every lesson either side added is kept, and a lesson both kept stays.
    A lesson one side removed (pruned, or deleted by a person) goes only if the other side left
    it unchanged; seen-counts add up (``ours + theirs - base``).
    """
    b = {lesson.key: lesson for lesson in base.lessons}
    o = {lesson.key: lesson for lesson in ours.lessons}
    t = {lesson.key: lesson for lesson in theirs.lessons}
    out: list[Lesson] = []
    for key in [*o, *(k for k in t if k not in o)]:
        mine, other, orig = o.get(key), t.get(key), b.get(key)
        if mine is not None and other is not None:
            out.append(_merge_one(orig, mine, other))
        elif orig is None:
            out.append(mine or other)  # type: ignore[arg-type]  # one of them is set
        else:
            kept = mine or other
            assert kept is not None
            if kept != orig:  # the other side deleted what this side changed: keep the change
                out.append(kept)
    stamps = [v for v in (ours.validated_at, theirs.validated_at) if v is not None]
    return Expertise(
        domain=ours.domain, lessons=tuple(out), validated_at=max(stamps) if stamps else None
    )


def line_count(expertise: Expertise) -> int:
    """Lines of the expertise's markdown file (equal to what the renderer writes)."""
    return _count({kind: len(expertise.of_kind(kind)) for kind in KIND_ORDER})


def _count(per_kind: Mapping[LessonKind, int]) -> int:
    # Each non-empty section is its heading, one line per lesson, and a blank line.
    return HEADER_LINES + sum(2 + n for n in per_kind.values() if n)


def prune_stale(
    expertise: Expertise, now: datetime, max_age: timedelta = STALE_AFTER
) -> tuple[Expertise, tuple[Lesson, ...]]:
    """Failure lessons dated more than ``max_age`` before ``now`` removed; returns (kept, removed)."""
    cutoff = (now - max_age).date()
    stale = tuple(
        lesson
        for lesson in expertise.lessons
        if lesson.kind is LessonKind.FAILURE
        and lesson.provenance.date is not None
        and lesson.provenance.date < cutoff
    )
    gone = {lesson.key for lesson in stale}
    kept = tuple(lesson for lesson in expertise.lessons if lesson.key not in gone)
    return replace(expertise, lessons=kept), stale


RETENTION_HALF_LIFE_DAYS = 30
"""A lesson this many days older than the domain's newest counts half as much when cutting."""


def retention(lesson: Lesson, newest: dt.date) -> float:
    """How much keeping ``lesson`` is worth when the file is over its line limit.

    The same value the prompt ranking gives a lesson (its kind — failures most, then techniques,
    patterns, core files — and how often it was seen), halved for every
    :data:`RETENTION_HALF_LIFE_DAYS` it is older than ``newest``. An undated lesson (a person's
    note) counts as newest.
    """
    value = _KIND_WEIGHT[lesson.kind] + 0.5 * min(lesson.seen, 5)
    dated = lesson.provenance.date
    age = 0 if dated is None else max((newest - dated).days, 0)
    return value * math.pow(0.5, age / RETENTION_HALF_LIFE_DAYS)


def enforce_line_limit(
    expertise: Expertise, max_lines: int
) -> tuple[Expertise, tuple[Lesson, ...]]:
    """The expertise cut to ``max_lines`` lines; returns (kept, removed).

    Lessons go in order of :func:`retention` (age and value across kinds, measured against the
    domain's newest lesson), least first; among equals the older, then the earlier in the file. A
    fresh failure outlives an old core file, and an old failure goes before a fresh core file.
    """
    per_kind = {kind: len(expertise.of_kind(kind)) for kind in KIND_ORDER}
    if _count(per_kind) <= max_lines:
        return expertise, ()
    dates = [x.provenance.date for x in expertise.lessons if x.provenance.date is not None]
    newest = max(dates, default=date.min)
    order = sorted(
        enumerate(expertise.lessons),
        key=lambda item: (
            retention(item[1], newest),
            item[1].provenance.sort_date,
            item[0],
        ),
    )
    removed: list[Lesson] = []
    for _, lesson in order:
        if _count(per_kind) <= max_lines:
            break
        per_kind[lesson.kind] -= 1
        removed.append(lesson)
    gone = {lesson.key for lesson in removed}
    kept = tuple(lesson for lesson in expertise.lessons if lesson.key not in gone)
    return replace(expertise, lessons=kept), tuple(removed)


def estimate_tokens(text: str) -> int:
    """A model-independent token estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


_KIND_WEIGHT = {
    LessonKind.FAILURE: 3.0,
    LessonKind.TECHNIQUE: 2.0,
    LessonKind.PATTERN: 1.5,
    LessonKind.CORE_FILE: 1.0,
}
_KIND_LABEL = {
    LessonKind.FAILURE: "Failure",
    LessonKind.PATTERN: "Pattern",
    LessonKind.TECHNIQUE: "Technique",
    LessonKind.CORE_FILE: "Core file",
}
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "then",
        "when",
        "was",
        "were",
        "are",
        "not",
        "has",
        "have",
        "use",
        "uses",
        "used",
        "file",
        "files",
        "run",
        "runs",
        "task",
        "add",
        "make",
    ]
)


def _relevance(lesson: Lesson, task_words: set[str], task_files: set[str], rank: int) -> float:
    overlap = len((set(words(f"{lesson.text} {lesson.fix or ''}")) - _STOP) & task_words)
    score = _KIND_WEIGHT[lesson.kind] + 2.0 * overlap + 0.5 * min(lesson.seen, 5)
    if lesson.kind is LessonKind.CORE_FILE and (
        lesson.text in task_files or lesson.text.rsplit("/", 1)[-1] in task_files
    ):
        score += 4.0
    # Newer lessons first among equals: rank 0 is the newest.
    return score - 0.01 * rank


def _bullet(lesson: Lesson) -> str:
    label = _KIND_LABEL[lesson.kind]
    if lesson.kind is LessonKind.FAILURE:
        fix = f" → fix: {lesson.fix}" if lesson.fix else ""
        return f"- **{label}:** {lesson.text}{fix}"
    if lesson.kind is LessonKind.CORE_FILE:
        return f"- **{label}:** `{lesson.text}`"
    return f"- **{label}:** {lesson.text}"


def format_for_prompt(
    expertise: Expertise, task: TaskBrief, token_budget: int = 600, *, heading: bool = True
) -> str:
    """A markdown section of the lessons most relevant to ``task``, within ``token_budget``.

    Lessons are ranked by kind (failures first), words shared with the task, files the task
    names, how often they were seen, and recency; the section stops before the budget would be
    exceeded. Empty when there is nothing to say or no room for a single lesson. Without
    ``heading`` only the bullets are returned (for a template that has its own heading).
    """
    if not expertise.lessons:
        return ""
    task_words = set(words(task.text)) - _STOP
    files = task.all_files()
    task_files = set(files) | {f.rsplit("/", 1)[-1] for f in files}
    by_age = sorted(expertise.lessons, key=lambda item: item.provenance.sort_date, reverse=True)
    scored = [
        (-_relevance(lesson, task_words, task_files, rank), rank, lesson)
        for rank, lesson in enumerate(by_age)
    ]
    ranked = [lesson for _, _, lesson in sorted(scored, key=lambda item: item[:2])]
    header = (
        f"## Lessons from earlier sessions ({expertise.domain})\n\n"
        "Earlier agents on this project learned these; use them where they apply.\n\n"
        if heading
        else ""
    )
    used = estimate_tokens(header)
    lines: list[str] = []
    for lesson in ranked:
        line = _bullet(lesson) + "\n"
        cost = estimate_tokens(line)
        if used + cost > token_budget:
            continue  # a shorter, lower-ranked lesson may still fit
        lines.append(line)
        used += cost
    return header + "".join(lines) if lines else ""
