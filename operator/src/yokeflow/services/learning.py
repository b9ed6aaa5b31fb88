"""Expertise as a use case: give each session its domain's lessons, learn from it when it ends.

The database holds each domain's expertise (versioned, with an update history); the project's
repository holds the same as markdown (``.yokeflow/expertise/<domain>.md``) for people to read
and edit. Every change goes through :meth:`ExpertiseService.update`:

1. load the stored version, and pick up a person's edit of the file (the file names the version
   it was written from; when it still matches and the text differs, the edit is merged in);
2. apply the change (learn, validate, improve), cap the lines;
3. save only if nobody saved in between (optimistic version check); otherwise reload and
   three-way merge this change onto what the other writer saved, and try again;
4. record the change in the history and rewrite the file.

So sessions finishing at the same moment never lose each other's lessons.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import random
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yokeflow.core.domains import classify_domain, file_signals
from yokeflow.core.expertise import (
    Expertise,
    Lesson,
    LessonKind,
    Provenance,
    enforce_line_limit,
    format_for_prompt,
    line_count,
    merge,
    prune_stale,
)
from yokeflow.core.expertise_markdown import parse, render
from yokeflow.core.lessons import LearnedSession, learn_from_session
from yokeflow.core.records import ExpertiseUpdate
from yokeflow.core.task_brief import TaskBrief
from yokeflow.errors import TemporaryError
from yokeflow.ports.learning import LearningStore
from yokeflow.ports.store import Store
from yokeflow.settings import LearningSettings

__all__ = [
    "EXPERTISE_DIR",
    "DomainSummary",
    "ExpertiseService",
    "LearnOutcome",
    "PromptExpertise",
    "SaveOutcome",
]

EXPERTISE_DIR = Path(".yokeflow") / "expertise"
MAX_CORE_FILES = 20
"""At most this many files are added by one :meth:`ExpertiseService.self_improve`."""
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".worktrees",
        ".yokeflow",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        "dist",
        "build",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
_VERSION = re.compile(r"<!--\s*yokeflow:expertise\b[^>]*\bversion=(\d+)")

Change = Callable[[Expertise], tuple[Expertise, str]]
"""A change to an expertise: the new expertise and a one-line summary for the history."""


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """A saved change: the expertise as stored, its version, and what happened on the way."""

    expertise: Expertise
    version: int
    summary: str
    attempts: int
    """1 when no other writer got in between; more when it merged and retried; 0 when the
    change changed nothing and nothing was saved."""
    removed: tuple[Lesson, ...] = ()
    """Lessons the line limit cut."""
    picked_up_edit: bool = False
    """A person's edit of the markdown file was merged in."""


@dataclass(frozen=True, slots=True)
class LearnOutcome:
    """What learning from one session did."""

    domain: str
    learned: LearnedSession
    saved: SaveOutcome | None
    """None when learning is disabled or the session taught nothing."""
    improved: SaveOutcome | None = None
    """The self-improvement scan that ran after it (every ``self_improve_interval`` sessions)."""


@dataclass(frozen=True, slots=True)
class PromptExpertise:
    """The expertise section for one task's prompt."""

    domain: str
    text: str
    """Markdown; empty when there is nothing (relevant) yet."""


@dataclass(frozen=True, slots=True)
class DomainSummary:
    """One domain of a project, as ``yokeflow expertise list`` shows it."""

    domain: str
    version: int
    lines: int
    lessons: dict[str, int]
    """Lessons by kind."""
    validated_at: datetime | None
    updated_at: datetime | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _file_version(text: str) -> int | None:
    match = _VERSION.search(text)
    return None if match is None else int(match[1])


def _with_version(text: str, version: int) -> str:
    return text.replace(
        "<!-- yokeflow:expertise ", f"<!-- yokeflow:expertise version={version} ", 1
    )


class ExpertiseService:
    """Loads, changes and saves expertise; the entry points the engine calls around sessions."""

    def __init__(
        self,
        store: Store,
        learning: LearningStore,
        settings: LearningSettings | None = None,
        *,
        repo_dir: Path | None = None,
        clock: Callable[[], datetime] = _utc_now,
        max_attempts: int = 30,
    ) -> None:
        self._store = store
        self._learning = learning
        self._settings = settings or LearningSettings()
        self._repo = repo_dir
        self._clock = clock
        self._max_attempts = max_attempts
        self._file_lock = asyncio.Lock()
        # Writers of one domain in this process take turns; other processes (task Jobs in a
        # cluster) are kept apart by the version check alone.
        self._domain_locks: dict[tuple[int, str], asyncio.Lock] = {}

    # -- entry points around a session ---------------------------------------------------------

    def domain_of(self, task: TaskBrief) -> str:
        """The domain a task's lessons are filed under (the same before and after its session)."""
        return classify_domain(task.title, task.description, task.files, self._settings.domains)

    async def prompt_for(
        self, project_id: int, task: TaskBrief, token_budget: int | None = None
    ) -> PromptExpertise:
        """The domain of ``task`` and the lessons to put in its prompt.

        The text is the ranked bullets only: ``prompts/task.md.j2`` gives them their heading
        (pass it as ``TaskRunConfig(expertise=text, domain=domain)``).
        """
        domain = self.domain_of(task)
        if not self._settings.enabled:
            return PromptExpertise(domain, "")
        expertise, _, _ = await self._current(project_id, domain)
        budget = self._settings.prompt_token_budget if token_budget is None else token_budget
        return PromptExpertise(domain, format_for_prompt(expertise, task, budget, heading=False))

    async def learn(
        self,
        project_id: int,
        task: TaskBrief,
        *,
        session_id: int | None,
        transcript: Path | Iterable[str] | None,
        success: bool | None = None,
        files_modified: Sequence[str] = (),
    ) -> LearnOutcome:
        """Extract the lessons of one finished session and merge them into its task's domain.

        ``transcript`` is the transcript file the Claude adapter wrote (or its lines);
        ``success`` is the task's verdict (verification included) and overrides the transcript's.
        """
        domain = self.domain_of(task)
        lines: Iterable[str] = ()
        if isinstance(transcript, Path):
            lines = await asyncio.to_thread(_read_lines, transcript)
        elif transcript is not None:
            lines = transcript
        learned = learn_from_session(
            lines,
            task,
            session_id,
            self._clock(),
            files_modified=files_modified,
            succeeded=success,
            domains=self._settings.domains,
        )
        if not self._settings.enabled or not learned.lessons:
            return LearnOutcome(domain, learned, None)

        def add(expertise: Expertise) -> tuple[Expertise, str]:
            summary = (
                f"learned {len(learned.lessons)} lessons from task {task.key}"
                f" ({learned.failures} failures, {learned.fixed} fixed)"
            )
            return expertise.with_lessons(learned.lessons), summary

        saved = await self.update(project_id, domain, add, "learn", session_id=session_id)
        improved = None
        interval = self._settings.self_improve_interval
        if interval and self._repo is not None:
            learns = await self._learn_count(project_id, domain)
            if learns % interval == 0:
                improved = await self.self_improve(project_id, domain)
        return LearnOutcome(domain, learned, saved, improved)

    # -- maintenance ---------------------------------------------------------------------------

    async def validate_expertise(self, project_id: int, domain: str) -> SaveOutcome:
        """Drop core files that no longer exist, prune stale failures, record the validation time."""
        now = self._clock()
        max_age = timedelta(days=self._settings.stale_after_days)

        def check(expertise: Expertise) -> tuple[Expertise, str]:
            missing: list[Lesson] = []
            if self._repo is not None:
                missing = [
                    lesson
                    for lesson in expertise.of_kind(LessonKind.CORE_FILE)
                    if not (self._repo / lesson.text).exists()
                ]
            gone = {lesson.key for lesson in missing}
            kept = replace(
                expertise, lessons=tuple(x for x in expertise.lessons if x.key not in gone)
            )
            kept, stale = prune_stale(kept, now, max_age)
            summary = f"validated: {len(missing)} missing core files removed, {len(stale)} stale failures pruned"
            return replace(kept, validated_at=now), summary

        return await self.update(project_id, domain, check, "validate", validated=True)

    async def self_improve(self, project_id: int, domain: str) -> SaveOutcome:
        """Scan the repository for files that look like the domain's and list them as core files."""
        now = self._clock()
        found = await asyncio.to_thread(self._scan, domain)

        def improve(expertise: Expertise) -> tuple[Expertise, str]:
            known = {lesson.text for lesson in expertise.of_kind(LessonKind.CORE_FILE)}
            new = [
                Lesson(LessonKind.CORE_FILE, path, provenance=Provenance(date=now.date()))
                for path in found
                if path not in known
            ]
            return expertise.with_lessons(new), f"self-improve: {len(new)} core files found"

        return await self.update(project_id, domain, improve, "improve")

    async def edit(self, project_id: int, domain: str, markdown: str) -> SaveOutcome:
        """A person's edit: ``markdown`` (the file's form) replaces the domain's lessons."""
        edited = parse(markdown, domain)

        def replace_all(expertise: Expertise) -> tuple[Expertise, str]:
            new = replace(edited, domain=domain, validated_at=expertise.validated_at)
            return new, f"edited by a person: {len(new.lessons)} lessons"

        return await self.update(project_id, domain, replace_all, "edit")

    async def history(self, project_id: int, domain: str) -> list[ExpertiseUpdate]:
        """Every saved change of a domain, oldest first (empty when it has no expertise yet)."""
        row = await self._store.get_expertise(project_id, domain)
        return [] if row is None else await self._store.list_expertise_updates(row.id)

    def _scan(self, domain: str) -> list[str]:
        if self._repo is None:
            return []
        scored: list[tuple[int, str]] = []
        for root, dirs, files in os.walk(self._repo):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in files:
                path = Path(root, name).relative_to(self._repo).as_posix()
                points = file_signals(path).get(domain, 0)
                if points:
                    scored.append((points, path))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [path for _, path in scored[:MAX_CORE_FILES]]

    # -- reading -------------------------------------------------------------------------------

    async def get(self, project_id: int, domain: str) -> Expertise:
        """A domain's expertise, a person's pending edit of its file included."""
        expertise, _, _ = await self._current(project_id, domain)
        return expertise

    async def show(self, project_id: int, domain: str) -> str:
        """A domain's expertise as its markdown file."""
        return render(await self.get(project_id, domain))

    async def domains(self, project_id: int) -> list[DomainSummary]:
        """Every domain of the project that has expertise."""
        out = []
        for domain in await self._store.list_expertise_domains(project_id):
            row = await self._store.get_expertise(project_id, domain)
            if row is None:
                continue
            expertise = Expertise.from_content(domain, row.content)
            kinds: dict[str, int] = {}
            for lesson in expertise.lessons:
                kinds[lesson.kind.value] = kinds.get(lesson.kind.value, 0) + 1
            out.append(
                DomainSummary(
                    domain=domain,
                    version=row.version,
                    lines=row.line_count,
                    lessons=kinds,
                    validated_at=row.validated_at,
                    updated_at=row.updated_at,
                )
            )
        return out

    # -- the one way to change expertise -------------------------------------------------------

    async def update(
        self,
        project_id: int,
        domain: str,
        change: Change,
        change_type: str,
        *,
        session_id: int | None = None,
        validated: bool = False,
    ) -> SaveOutcome:
        """Apply ``change`` to a domain and save it without losing a concurrent writer's work."""
        lock = self._domain_locks.setdefault((project_id, domain), asyncio.Lock())
        async with lock:
            return await self._update(
                project_id, domain, change, change_type, session_id=session_id, validated=validated
            )

    async def _update(
        self,
        project_id: int,
        domain: str,
        change: Change,
        change_type: str,
        *,
        session_id: int | None,
        validated: bool,
    ) -> SaveOutcome:
        snapshot, version, edited = await self._current(project_id, domain)
        before = snapshot
        ours, summary = change(snapshot)
        if ours == snapshot and not edited and not validated and version is not None:
            return SaveOutcome(ours, version, f"{summary} (nothing changed)", 0)
        removed: tuple[Lesson, ...] = ()
        for attempt in range(1, self._max_attempts + 1):
            ours, cut = enforce_line_limit(ours, self._settings.expertise_max_lines)
            removed += cut
            saved = await self._learning.save_expertise_if_version(
                project_id,
                domain,
                ours.to_content(),
                line_count=line_count(ours),
                expected_version=version,
                validated=validated,
            )
            if saved is not None:
                if edited:
                    await self._store.record_expertise_update(
                        saved.id, "edit", "picked up a person's edit of the markdown file"
                    )
                diff = "".join(
                    difflib.unified_diff(
                        render(before).splitlines(keepends=True),
                        render(ours).splitlines(keepends=True),
                        f"{domain}.md@{version or 0}",
                        f"{domain}.md@{saved.version}",
                    )
                )
                if removed:
                    summary += f"; line limit removed {len(removed)}"
                await self._store.record_expertise_update(
                    saved.id, change_type, summary, session_id=session_id, diff=diff or None
                )
                await self._write_file(domain, ours, saved.version)
                return SaveOutcome(ours, saved.version, summary, attempt, removed, edited)
            # Someone saved first: merge our change onto theirs and try again, after a short
            # random pause so that writers which collided do not collide again in lockstep.
            await asyncio.sleep(random.uniform(0, 0.005 * attempt))
            latest, version, latest_edited = await self._current(project_id, domain)
            edited = edited or latest_edited
            ours = merge(snapshot, latest, ours)
            snapshot = before = latest
        raise TemporaryError(
            f"expertise {domain!r} of project {project_id}: still contended after "
            f"{self._max_attempts} attempts"
        )

    async def _current(self, project_id: int, domain: str) -> tuple[Expertise, int | None, bool]:
        """(expertise, stored version or None, whether a person's file edit was merged in)."""
        row = await self._store.get_expertise(project_id, domain)
        stored = Expertise(domain) if row is None else Expertise.from_content(domain, row.content)
        version = None if row is None else row.version
        text = await asyncio.to_thread(self._read_file, domain)
        written_from = None if text is None else _file_version(text)
        if text is None or (row is not None and written_from not in (None, row.version)):
            # No file, or a file written from another version (an older writer's that lost the
            # race to write): the database is the truth. A file without a version marker was
            # written by a person from scratch and counts as their edit of the current version.
            return stored, version, False
        from_file = parse(text, domain)
        if from_file == stored:
            return stored, version, False
        return merge(stored, stored, from_file), version, True

    def _path(self, domain: str) -> Path | None:
        return None if self._repo is None else self._repo / EXPERTISE_DIR / f"{domain}.md"

    def _read_file(self, domain: str) -> str | None:
        path = self._path(domain)
        if path is None or not path.is_file():
            return None
        return path.read_text(encoding="utf-8", errors="replace")

    async def _write_file(self, domain: str, expertise: Expertise, version: int) -> None:
        path = self._path(domain)
        if path is None:
            return
        async with self._file_lock:
            current = await asyncio.to_thread(self._read_file, domain)
            if current is not None and (_file_version(current) or 0) > version:
                return  # a newer save already wrote it
            text = _with_version(render(expertise), version)
            await asyncio.to_thread(_atomic_write, path, text)

    async def _learn_count(self, project_id: int, domain: str) -> int:
        row = await self._store.get_expertise(project_id, domain)
        if row is None:
            return 0
        updates = await self._store.list_expertise_updates(row.id)
        return sum(1 for u in updates if u.change_type == "learn")


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []  # a session that never started writes no transcript
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per write: two services of one process (one pid) may write at once.
    tmp = path.with_suffix(f".md.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
