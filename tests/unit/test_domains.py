"""Domain classification: keywords, file-path signals, and ``general`` when uncertain."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.domains import DOMAINS, classify_domain, domain_scores, file_signals
from yokeflow.core.task_brief import TaskBrief

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("title", "description", "files", "expected"),
    [
        ("Create the users table", "Add a migration with an index on email", (), "database"),
        ("Add REST endpoint for orders", "GET /orders returns JSON with pagination", (), "api"),
        ("Build the login page", "A React component with a form and a button", (), "frontend"),
        ("Write pytest fixtures", "Increase coverage of the parser", (), "testing"),
        ("Hash passwords with bcrypt", "Store password hashes, never plain text", (), "security"),
        (
            "Dockerfile for the service",
            "Build the container image in the CI pipeline",
            (),
            "deployment",
        ),
        ("Tidy things up", "Make it nicer", (), "general"),
        ("Update", "", ("migrations/0002_orders.sql",), "database"),
        ("Update", "", ("src/components/Cart.tsx",), "frontend"),
        ("Update", "", (".github/workflows/ci.yml",), "deployment"),
        ("Update", "", ("tests/test_cart.py",), "testing"),
    ],
)
def test_classify(title: str, description: str, files: tuple[str, ...], expected: str) -> None:
    assert classify_domain(title, description, files) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # the head noun comes last in the phrase before the first preposition
        ("Add database migration for API endpoint", "database"),
        ("Add API endpoint for database migration", "api"),
        ("API test suite", "testing"),
        ("Login and signup pages", "frontend"),
        ("database endpoint", "api"),
        ("endpoint database", "database"),
    ],
)
def test_a_tie_goes_to_the_head_noun_never_to_general(title: str, expected: str) -> None:
    scores = domain_scores(TaskBrief("t", title))
    top = max(scores.scores.values())
    assert sorted(scores.scores.values()).count(top) >= 2, scores.explain()  # a real tie
    assert scores.domain == expected


def test_a_tie_with_no_title_keyword_order_goes_to_the_description_then_the_list() -> None:
    # equal points from the description only: the domain named first there wins
    first_db = TaskBrief("t", "Do it", "a table and a query behind an endpoint and a route")
    assert domain_scores(first_db).scores["database"] == domain_scores(first_db).scores["api"]
    assert domain_scores(first_db).domain == "database"
    first_api = TaskBrief("t", "Do it", "an endpoint and a route over a table and a query")
    assert domain_scores(first_api).domain == "api"


def test_no_task_of_the_bookstore_plan_falls_to_general_by_a_tie() -> None:
    import yaml

    from yokeflow.core.domains import MIN_SCORE

    plan = yaml.safe_load((ROOT / "examples/plans/bookstore.yaml").read_text())
    ties = []
    for epic in plan["epics"]:
        for task in epic["tasks"]:
            scores = domain_scores(
                TaskBrief(task["key"], task["title"], task.get("description", ""))
            )
            if max(scores.scores.values()) >= MIN_SCORE and scores.domain == "general":
                ties.append(task["title"])
    assert ties == []
    expected = {"Auth middleware": "api", "Login and signup pages": "frontend"}
    expected["API test suite"] = "testing"
    for epic in plan["epics"]:
        for task in epic["tasks"]:
            if task["title"] in expected:
                brief = TaskBrief(task["key"], task["title"], task.get("description", ""))
                assert domain_scores(brief).domain == expected[task["title"]], task["title"]


def test_a_single_description_word_is_not_enough() -> None:
    assert classify_domain("Improve things", "maybe touch the table") == "general"
    assert classify_domain("Improve the table") == "database"


def test_paths_written_in_the_text_count() -> None:
    brief = TaskBrief("t", "Fix it", "The bug is in app/routes/orders.py")
    assert "app/routes/orders.py" in brief.all_files()
    assert domain_scores(brief).domain == "api"


def test_file_signals() -> None:
    assert file_signals("db/migrations/0001_init.sql")["database"] >= 2
    assert file_signals("web/src/App.test.tsx").keys() >= {"frontend", "testing"}
    assert file_signals("README.md") == {}


def test_only_allowed_domains_are_chosen() -> None:
    brief = TaskBrief("t", "Create the users table with an index")
    assert domain_scores(brief, domains=("api", "general")).domain == "general"
    assert set(domain_scores(brief).scores) == set(DOMAINS) - {"general"}


def test_explain_names_the_points() -> None:
    scores = domain_scores(TaskBrief("t", "Create the users table"))
    assert scores.explain().startswith("database (database ")


def _points_by_reading_per_domain(task: TaskBrief) -> dict[str, int]:
    """The scoring rule read literally: every domain reads the whole text (and files) itself."""
    from yokeflow.core.domains import DOMAIN_KEYWORDS, FILE_WEIGHT, TITLE_WEIGHT
    from yokeflow.core.task_brief import words

    def hits(text: str, keywords: frozenset[str]) -> int:
        return len(
            {w for w in words(text) if w in keywords or (w[-1:] == "s" and w[:-1] in keywords)}
        )

    files = task.all_files()
    return {
        domain: TITLE_WEIGHT * hits(task.title, keywords)
        + hits(task.description, keywords)
        + FILE_WEIGHT * sum(1 for f in files if domain in file_signals(f))
        for domain, keywords in DOMAIN_KEYWORDS.items()
    }


_VOCABULARY = [
    "the", "add", "tables", "table", "index", "indexes", "indexess", "api", "apis", "tests",
    "test", "ui", "uis", "auth", "docker", "s", "for", "of", "Query", "ROUTES", "seed",
    "migrations/0001.sql", "src/App.tsx", "Dockerfile", "a.py", "x/y", "cart.test.ts",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=8),
    st.lists(st.sampled_from(_VOCABULARY), max_size=12),
    st.lists(
        st.sampled_from(["db/schema.sql", "web/pages/Home.vue", "tests/test_a.py"]), max_size=2
    ),
)
def test_scores_equal_each_domain_reading_the_text_itself(
    title: list[str], description: list[str], files: list[str]
) -> None:
    """The word index reads a text once for all domains and must score exactly the same."""
    task = TaskBrief("t", " ".join(title), " ".join(description), tuple(files))
    assert dict(domain_scores(task).scores) == _points_by_reading_per_domain(task)
