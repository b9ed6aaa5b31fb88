"""How demanding a task is, from its text and shape, as four explained factors and a weighted score.

Each factor is a number in [0, 1] with a sentence saying why:

- **reasoning depth** — design, algorithms, concurrency, debugging raise it; typos, renames,
  docs and config lower it (base 0.3, ±0.2 / −0.15 per distinct word).
- **code complexity** — the estimate (log scale up to 4 hours), the length of the description,
  the number of files, and building words (implement, integrate, parser…).
- **domain specificity** — a specialised domain (not ``general``) and specialist words
  (crypto, oauth, migration, kubernetes…).
- **context requirements** — dependencies, files, and words like "across", "entire", "end-to-end".

``overall = 0.35 × reasoning + 0.30 × code + 0.15 × domain + 0.20 × context``; below
:data:`HAIKU_BELOW` suggests Haiku, from :data:`OPUS_FROM` Opus, Sonnet between.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from yokeflow.core.domains import GENERAL, domain_scores
from yokeflow.core.pricing import ModelTier
from yokeflow.core.task_brief import TaskBrief, words

__all__ = [
    "HAIKU_BELOW",
    "OPUS_FROM",
    "WEIGHTS",
    "Complexity",
    "Factor",
    "analyze_complexity",
    "tier_for_score",
]

WEIGHTS = {
    "reasoning_depth": 0.35,
    "code_complexity": 0.30,
    "domain_specificity": 0.15,
    "context_requirements": 0.20,
}
HAIKU_BELOW = 0.30
OPUS_FROM = 0.60

_DEEP = frozenset(
    [
        "design",
        "architect",
        "architecture",
        "algorithm",
        "algorithms",
        "optimize",
        "optimise",
        "optimization",
        "concurrency",
        "concurrent",
        "race",
        "distributed",
        "consensus",
        "tradeoff",
        "tradeoffs",
        "refactor",
        "migrate",
        "debug",
        "investigate",
        "scalable",
        "scalability",
        "performance",
        "invariant",
        "invariants",
        "transaction",
        "transactions",
        "locking",
        "parallel",
        "asynchronous",
        "scheduler",
        "scheduling",
        "recovery",
        "consistency",
    ]
)
_SHALLOW = frozenset(
    [
        "typo",
        "typos",
        "rename",
        "readme",
        "docs",
        "documentation",
        "comment",
        "comments",
        "format",
        "formatting",
        "bump",
        "copy",
        "label",
        "labels",
        "constant",
        "constants",
        "wording",
        "changelog",
        "placeholder",
        "stub",
    ]
)
_BUILD = frozenset(
    [
        "implement",
        "integrate",
        "build",
        "parser",
        "protocol",
        "engine",
        "pipeline",
        "service",
        "compiler",
        "interpreter",
        "framework",
        "plugin",
        "streaming",
    ]
)
_SPECIALIST = frozenset(
    [
        "crypto",
        "cryptography",
        "encryption",
        "oauth",
        "jwt",
        "saml",
        "migration",
        "migrations",
        "sql",
        "kubernetes",
        "compiler",
        "protocol",
        "regex",
        "payment",
        "payments",
        "billing",
        "gpu",
        "webassembly",
        "kernel",
    ]
)
_WIDE = frozenset(
    [
        "across",
        "entire",
        "whole",
        "every",
        "codebase",
        "multiple",
        "integrate",
        "integration",
        "end",
        "system",
        "wide",
        "cross",
        "cutting",
        "all",
    ]
)


@dataclass(frozen=True, slots=True)
class Factor:
    """One part of the complexity score: a value in [0, 1] and why."""

    score: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Complexity:
    """The four factors, their weighted sum, and the tier that sum suggests."""

    reasoning_depth: Factor
    code_complexity: Factor
    domain_specificity: Factor
    context_requirements: Factor
    overall: float
    tier: ModelTier
    domain: str

    def explain(self) -> str:
        """One line per factor and the total."""
        parts = [
            f"{name.replace('_', ' ')} {getattr(self, name).score:.2f} ({getattr(self, name).explanation})"
            for name in WEIGHTS
        ]
        return "; ".join(parts) + f"; overall {self.overall:.2f} → {self.tier.value}"


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _found(text_words: set[str], vocabulary: frozenset[str]) -> list[str]:
    return sorted(text_words & vocabulary)


def _list(found: Iterable[str]) -> str:
    items = list(found)
    return ", ".join(items[:4]) + ("…" if len(items) > 4 else "")


def tier_for_score(
    score: float, haiku_below: float = HAIKU_BELOW, opus_from: float = OPUS_FROM
) -> ModelTier:
    """The tier a complexity score suggests."""
    if score < haiku_below:
        return ModelTier.HAIKU
    if score >= opus_from:
        return ModelTier.OPUS
    return ModelTier.SONNET


def analyze_complexity(
    task: TaskBrief, *, haiku_below: float = HAIKU_BELOW, opus_from: float = OPUS_FROM
) -> Complexity:
    """The complexity of ``task``, every factor explained."""
    text_words = set(words(task.text))
    files = task.all_files()

    deep, shallow = _found(text_words, _DEEP), _found(text_words, _SHALLOW)
    reasoning = _clamp(0.3 + 0.2 * len(deep) - 0.15 * len(shallow))
    why = []
    if deep:
        why.append(f"needs thought: {_list(deep)}")
    if shallow:
        why.append(f"routine: {_list(shallow)}")
    reasoning_factor = Factor(reasoning, "; ".join(why) or "no signals either way")

    estimate = _clamp(math.log2(1 + max(task.estimate_minutes, 0)) / math.log2(1 + 240))
    length = _clamp(len(words(task.description)) / 150)
    breadth = _clamp(len(files) / 8)
    build = _found(text_words, _BUILD)
    code = _clamp(0.4 * estimate + 0.3 * length + 0.3 * breadth + 0.1 * len(build))
    code_factor = Factor(
        code,
        f"estimate {task.estimate_minutes:g} min, {len(words(task.description))} words, "
        f"{len(files)} files" + (f", builds: {_list(build)}" if build else ""),
    )

    scores = domain_scores(task)
    special = _found(text_words, _SPECIALIST)
    domain = _clamp((0.1 if scores.domain == GENERAL else 0.4) + 0.15 * len(special))
    domain_factor = Factor(
        domain,
        f"domain {scores.domain}" + (f", specialist: {_list(special)}" if special else ""),
    )

    wide = _found(text_words, _WIDE)
    context = _clamp(0.15 * task.dependency_count + 0.08 * len(files) + 0.15 * len(wide))
    context_factor = Factor(
        context,
        f"{task.dependency_count} dependencies, {len(files)} files"
        + (f", wide scope: {_list(wide)}" if wide else ""),
    )

    overall = round(
        WEIGHTS["reasoning_depth"] * reasoning
        + WEIGHTS["code_complexity"] * code
        + WEIGHTS["domain_specificity"] * domain
        + WEIGHTS["context_requirements"] * context,
        4,
    )
    return Complexity(
        reasoning_depth=reasoning_factor,
        code_complexity=code_factor,
        domain_specificity=domain_factor,
        context_requirements=context_factor,
        overall=overall,
        tier=tier_for_score(overall, haiku_below, opus_from),
        domain=scores.domain,
    )
