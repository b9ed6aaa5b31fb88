"""Expertise domains and which one a task belongs to: keyword scoring plus file-path signals.

A task scores points for a domain when its text uses the domain's keywords (a word in the title
counts twice) and when the files it names look like that domain's files (``migrations/``,
``*.tsx``, ``Dockerfile``…). The best domain wins when it scores at least :data:`MIN_SCORE`;
below that the task is ``general``.

A tie between the best domains is broken by the title's *head noun* — English puts it last in a
noun phrase ("API test suite" is a test suite, "Add database migration for API endpoint" adds a
migration): the domain whose keyword comes last in the title before its first preposition
(``for``, ``of``, ``to``, ``with``…) wins; then the one whose keyword comes last anywhere in the
title; then the one named first in the description; then the order of :data:`DOMAINS`. A tie never
falls to ``general``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from yokeflow.core.task_brief import TaskBrief, words

__all__ = [
    "DOMAINS",
    "DOMAIN_KEYWORDS",
    "GENERAL",
    "MIN_SCORE",
    "DomainScores",
    "classify_domain",
    "domain_scores",
    "file_signals",
]

GENERAL = "general"
DOMAINS: tuple[str, ...] = (
    "database",
    "api",
    "frontend",
    "testing",
    "security",
    "deployment",
    GENERAL,
)
MIN_SCORE = 2
"""A domain needs at least this many points to be chosen over ``general``."""
TITLE_WEIGHT = 2
FILE_WEIGHT = 2

DOMAIN_KEYWORDS: Mapping[str, frozenset[str]] = {
    "database": frozenset(
        [
            "database",
            "databases",
            "db",
            "sql",
            "postgres",
            "postgresql",
            "mysql",
            "sqlite",
            "schema",
            "schemas",
            "migration",
            "migrations",
            "table",
            "tables",
            "query",
            "queries",
            "index",
            "indexes",
            "orm",
            "sqlalchemy",
            "transaction",
            "transactions",
            "column",
            "columns",
            "redis",
            "mongo",
            "mongodb",
            "prisma",
            "alembic",
            "asyncpg",
            "seed",
        ]
    ),
    "api": frozenset(
        [
            "api",
            "apis",
            "endpoint",
            "endpoints",
            "rest",
            "route",
            "routes",
            "router",
            "http",
            "request",
            "requests",
            "response",
            "responses",
            "graphql",
            "grpc",
            "fastapi",
            "flask",
            "express",
            "handler",
            "handlers",
            "webhook",
            "webhooks",
            "openapi",
            "pagination",
            "middleware",
            "cors",
        ]
    ),
    "frontend": frozenset(
        [
            "frontend",
            "ui",
            "ux",
            "component",
            "components",
            "react",
            "vue",
            "svelte",
            "angular",
            "css",
            "html",
            "page",
            "pages",
            "button",
            "buttons",
            "form",
            "forms",
            "layout",
            "style",
            "styles",
            "tailwind",
            "dom",
            "browser",
            "dashboard",
            "modal",
            "navbar",
            "sidebar",
            "responsive",
        ]
    ),
    "testing": frozenset(
        [
            "test",
            "tests",
            "testing",
            "pytest",
            "unittest",
            "jest",
            "vitest",
            "coverage",
            "fixture",
            "fixtures",
            "mock",
            "mocks",
            "assertion",
            "assertions",
            "e2e",
            "playwright",
            "regression",
            "flaky",
        ]
    ),
    "security": frozenset(
        [
            "security",
            "secure",
            "auth",
            "authentication",
            "authorization",
            "login",
            "logout",
            "password",
            "passwords",
            "token",
            "tokens",
            "jwt",
            "oauth",
            "csrf",
            "xss",
            "injection",
            "encrypt",
            "encryption",
            "hash",
            "hashing",
            "secret",
            "secrets",
            "permission",
            "permissions",
            "rbac",
            "tls",
            "certificate",
            "vulnerability",
            "sanitize",
        ]
    ),
    "deployment": frozenset(
        [
            "deploy",
            "deployment",
            "deployments",
            "docker",
            "dockerfile",
            "container",
            "containers",
            "kubernetes",
            "k8s",
            "helm",
            "ci",
            "pipeline",
            "pipelines",
            "terraform",
            "nginx",
            "release",
            "releases",
            "compose",
            "infrastructure",
            "infra",
            "provisioning",
            "ansible",
        ]
    ),
}
"""The words that count for each domain (``general`` has none: it is what is left)."""

_SEGMENTS: Mapping[str, frozenset[str]] = {
    "database": frozenset(
        {
            "migrations",
            "migration",
            "db",
            "database",
            "models",
            "schema",
            "alembic",
            "prisma",
            "sql",
        }
    ),
    "api": frozenset({"api", "routes", "routers", "endpoints", "handlers", "controllers"}),
    "frontend": frozenset(
        {"components", "pages", "frontend", "ui", "static", "templates", "styles", "public"}
    ),
    "testing": frozenset({"tests", "test", "__tests__", "e2e", "spec", "specs"}),
    "security": frozenset({"auth", "security", "permissions", "crypto"}),
    "deployment": frozenset(
        {
            "deploy",
            "deployment",
            "helm",
            "charts",
            "k8s",
            "kubernetes",
            "terraform",
            "infra",
            ".github",
            "docker",
        }
    ),
}
_SUFFIXES: Mapping[str, frozenset[str]] = {
    "database": frozenset({".sql"}),
    "frontend": frozenset({".tsx", ".jsx", ".vue", ".svelte", ".css", ".scss", ".html"}),
    "deployment": frozenset({".tf"}),
}
_NAME_PARTS: Mapping[str, tuple[str, ...]] = {
    "database": ("schema", "models", "migration", "database"),
    "api": ("routes", "router", "endpoint", "api", "openapi", "handlers"),
    "testing": ("conftest",),
    "security": ("auth", "crypto", "password", "token", "permission", "security"),
    "deployment": ("dockerfile", "docker-compose", "compose.y", "makefile", "deploy"),
}


@dataclass(frozen=True, slots=True)
class DomainScores:
    """Points per domain, and the decision they lead to."""

    scores: Mapping[str, int]
    domain: str

    def explain(self) -> str:
        """One line: the points of every domain that scored any."""
        scored = sorted(((v, k) for k, v in self.scores.items() if v), reverse=True)
        parts = ", ".join(f"{k} {v}" for v, k in scored) or "no signals"
        return f"{self.domain} ({parts})"


def _is_test_file(name: str) -> bool:
    stem = name.split(".", 1)[0]
    return (
        name.startswith("test_") or stem.endswith("_test") or ".test." in name or ".spec." in name
    )


def file_signals(path: str) -> dict[str, int]:
    """The domains a file path looks like it belongs to (1 per matching signal kind)."""
    pure = PurePosixPath(path.replace("\\", "/").lower())
    name = pure.name
    segments = set(pure.parts[:-1])
    out: dict[str, int] = {}
    for domain in DOMAIN_KEYWORDS:
        points = 0
        if segments & _SEGMENTS.get(domain, frozenset()):
            points += 1
        if pure.suffix in _SUFFIXES.get(domain, frozenset()):
            points += 1
        if any(part in name for part in _NAME_PARTS.get(domain, ())):
            points += 1
        if domain == "testing" and _is_test_file(name):
            points += 1
        if domain == "deployment" and ".github/workflows" in str(pure):
            points += 1
        if points:
            out[domain] = points
    return out


_PREPOSITIONS = frozenset(
    [
        "for",
        "of",
        "to",
        "with",
        "in",
        "on",
        "from",
        "into",
        "via",
        "by",
        "at",
        "per",
        "about",
        "after",
        "before",
        "behind",
        "through",
        "using",
    ]
)


def _is_keyword(word: str, keywords: frozenset[str]) -> bool:
    return word in keywords or (word.endswith("s") and word[:-1] in keywords)


def _last_position(found: list[str], keywords: frozenset[str]) -> int:
    return max((i for i, w in enumerate(found) if _is_keyword(w, keywords)), default=-1)


def _tie_rank(task: TaskBrief, domain: str) -> tuple[int, int, int, int]:
    """Larger is stronger: see the module's docstring for the rule."""
    keywords = DOMAIN_KEYWORDS[domain]
    title = words(task.title)
    cut = next((i for i, w in enumerate(title) if w in _PREPOSITIONS), len(title))
    head = _last_position(title[:cut], keywords)
    anywhere = _last_position(title, keywords)
    described = words(task.description)
    first = next((i for i, w in enumerate(described) if _is_keyword(w, keywords)), len(described))
    return (head, anywhere, -first, -DOMAINS.index(domain))


def _index_keywords() -> dict[str, tuple[str, ...]]:
    """Each word that counts (a keyword, or a keyword plus ``s``) and the domains it counts for."""
    index: dict[str, list[str]] = {}
    for domain, keywords in DOMAIN_KEYWORDS.items():
        for keyword in keywords:
            for form in (keyword, keyword + "s"):
                counted = index.setdefault(form, [])
                if domain not in counted:
                    counted.append(domain)
    return {form: tuple(domains) for form, domains in index.items()}


_DOMAINS_OF_WORD = _index_keywords()
_COUNTED_WORDS = frozenset(_DOMAINS_OF_WORD)


def _count_keywords(text: str, weight: int, scores: dict[str, int]) -> None:
    """Add ``weight`` to a domain's score per distinct word of ``text`` that is its keyword.

    The text is read once for every domain: its words meet the index of counted words.
    """
    for word in _COUNTED_WORDS.intersection(words(text)):
        for domain in _DOMAINS_OF_WORD[word]:
            if domain in scores:
                scores[domain] += weight


_SCORED = tuple(d for d in DOMAINS if d in DOMAIN_KEYWORDS)


def domain_scores(task: TaskBrief, domains: Iterable[str] = DOMAINS) -> DomainScores:
    """Every domain's points for ``task``, and the chosen domain."""
    allowed = _SCORED if domains is DOMAINS else [d for d in domains if d in DOMAIN_KEYWORDS]
    scores = dict.fromkeys(allowed, 0)
    _count_keywords(task.title, TITLE_WEIGHT, scores)
    _count_keywords(task.description, 1, scores)
    for path in task.all_files():
        for domain in file_signals(path):
            if domain in scores:
                scores[domain] += FILE_WEIGHT
    top = max(scores.values(), default=0)
    chosen = GENERAL
    if top >= MIN_SCORE:
        tied = [d for d in scores if scores[d] == top]
        chosen = max(tied, key=lambda d: _tie_rank(task, d))
    return DomainScores(scores=scores, domain=chosen)


def classify_domain(
    title: str,
    description: str = "",
    files: Iterable[str] = (),
    domains: Iterable[str] = DOMAINS,
) -> str:
    """The domain of a task from its title, description and files; ``general`` when uncertain."""
    brief = TaskBrief(key="", title=title, description=description, files=tuple(files))
    return domain_scores(brief, domains).domain
