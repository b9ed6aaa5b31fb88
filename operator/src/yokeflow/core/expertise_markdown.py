"""The human-editable markdown form of an expertise: ``.yokeflow/expertise/<domain>.md``.

The file is a title, a marker comment (domain, validation time), one sentence on how to edit
it, and one section per kind of lesson with one bullet per lesson::

    ## Failures and fixes
    - `pytest` failed: AssertionError: assert ['b', 'a'] == ['a', 'b'] → fix: sort the names _(session 12, task db-1, 2026-11-24)_

    ## Tool patterns
    - Write → Bash(pytest) → Edit → Bash(pytest) _(session 12, task db-1, 2026-11-24, seen 3×)_

The provenance in ``_(…)_`` is optional, so a person can add a plain bullet; a bullet under an
unknown heading is read as a technique; indented lines continue the bullet above. Parsing what
:func:`render` wrote gives back the same expertise (round trip).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from yokeflow.core.expertise import (
    HEADER_LINES,
    KIND_ORDER,
    Expertise,
    Lesson,
    LessonKind,
    Provenance,
)

__all__ = ["FIX_SEPARATOR", "SECTION_TITLES", "parse", "render"]

SECTION_TITLES = {
    LessonKind.FAILURE: "Failures and fixes",
    LessonKind.PATTERN: "Tool patterns",
    LessonKind.TECHNIQUE: "Techniques",
    LessonKind.CORE_FILE: "Core files",
}
FIX_SEPARATOR = " → fix: "
INTRO = (
    "Lessons YokeFlow's agents learned about this domain. Edit freely: one bullet per lesson; "
    "the _(session, task, date)_ note is optional."
)
_MARKER = re.compile(r"<!--\s*yokeflow:expertise\s+(?P<body>.*?)\s*-->")
_TRAILER = re.compile(r"\s+_\((?P<prov>[^()]*)\)_\s*$")
_SESSION = re.compile(r"^session (\S+)$")
_TASK = re.compile(r"^task (\S+)$")
_SEEN = re.compile(r"^seen (\d+)×$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(?P<text>.*)$")


def _provenance_note(lesson: Lesson) -> str:
    p = lesson.provenance
    parts = []
    if p.session:
        parts.append(f"session {p.session}")
    if p.task:
        parts.append(f"task {p.task}")
    if p.date:
        parts.append(p.date.isoformat())
    if lesson.seen > 1:
        parts.append(f"seen {lesson.seen}×")
    return f" _({', '.join(parts)})_" if parts else ""


def _body(lesson: Lesson) -> str:
    if lesson.kind is LessonKind.FAILURE and lesson.fix:
        return f"{lesson.text}{FIX_SEPARATOR}{lesson.fix}"
    if lesson.kind is LessonKind.CORE_FILE:
        return f"`{lesson.text}`"
    return lesson.text


def render(expertise: Expertise) -> str:
    """The markdown file of an expertise (its line count is :func:`~yokeflow.core.expertise.line_count`)."""
    stamp = "-" if expertise.validated_at is None else expertise.validated_at.isoformat()
    lines = [
        f"# Expertise: {expertise.domain}",
        f"<!-- yokeflow:expertise domain={expertise.domain} validated={stamp} -->",
        "",
        INTRO,
        "",
    ]
    assert len(lines) == HEADER_LINES
    for kind in KIND_ORDER:
        lessons = expertise.of_kind(kind)
        if not lessons:
            continue
        lines.append(f"## {SECTION_TITLES[kind]}")
        lines.extend(f"- {_body(lesson)}{_provenance_note(lesson)}" for lesson in lessons)
        lines.append("")
    return "\n".join(lines) + "\n"


def _section_kind(title: str) -> LessonKind:
    low = title.lower()
    if "fail" in low or "error" in low:
        return LessonKind.FAILURE
    if "pattern" in low:
        return LessonKind.PATTERN
    if "file" in low:
        return LessonKind.CORE_FILE
    return LessonKind.TECHNIQUE


def _split_trailer(text: str) -> tuple[str, Provenance, int]:
    match = _TRAILER.search(text)
    if match is None:
        return text, Provenance(), 1
    session = task = None
    day: date | None = None
    seen = 1
    for part in (p.strip() for p in match["prov"].split(",")):
        if m := _SESSION.match(part):
            session = m[1]
        elif m := _TASK.match(part):
            task = m[1]
        elif m := _SEEN.match(part):
            seen = int(m[1])
        elif _DAY.match(part):
            try:
                day = date.fromisoformat(part)
            except ValueError:
                return text, Provenance(), 1
        else:  # not a note we wrote: the parentheses belong to the lesson's text
            return text, Provenance(), 1
    return text[: match.start()], Provenance(session=session, task=task, date=day), seen


def _lesson(kind: LessonKind, raw: str) -> Lesson | None:
    body, provenance, seen = _split_trailer(raw.strip())
    body = body.strip()
    fix = None
    if kind is LessonKind.FAILURE:
        for separator in (FIX_SEPARATOR, " -> fix: "):
            if separator in body:
                body, fix = body.split(separator, 1)
                break
    if kind is LessonKind.CORE_FILE:
        body = body.strip().strip("`")
    if not body.strip():
        return None
    return Lesson(kind=kind, text=body, fix=fix, provenance=provenance, seen=seen)


def _header(text: str, fallback: str) -> tuple[str, datetime | None]:
    match = _MARKER.search(text)
    if match is None:
        title = re.search(r"^#\s+Expertise:\s*(\S+)", text, re.MULTILINE)
        return (title[1] if title else fallback), None
    fields = dict(item.split("=", 1) for item in match["body"].split() if "=" in item)
    stamp = fields.get("validated", "-")
    try:
        validated = None if stamp in ("", "-") else datetime.fromisoformat(stamp)
    except ValueError:
        validated = None
    return fields.get("domain", fallback), validated


def parse(text: str, domain: str = "general") -> Expertise:
    """An expertise read from its markdown file; ``domain`` is used when the file names none."""
    name, validated = _header(text, domain)
    lessons: list[Lesson] = []
    kind: LessonKind | None = None
    current: list[str] = []

    def flush() -> None:
        if kind is not None and current:
            lesson = _lesson(kind, " ".join(current))
            if lesson is not None:
                lessons.append(lesson)
        current.clear()

    for line in text.splitlines():
        if line.startswith("## "):
            flush()
            kind = _section_kind(line[3:])
            continue
        if line.startswith("# "):
            flush()
            kind = None
            continue
        bullet = _BULLET.match(line)
        if bullet and kind is not None:
            flush()
            current.append(bullet["text"])
        elif current and line.strip() and line[:1].isspace():
            current.append(line.strip())  # continuation of the bullet above
        else:
            flush()
    flush()
    return Expertise(domain=name, lessons=tuple(lessons), validated_at=validated)
