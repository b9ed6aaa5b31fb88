"""Domain classification: keywords, file-path signals, and ``general`` when uncertain."""

from __future__ import annotations

import pytest

from yokeflow.core.domains import DOMAINS, classify_domain, domain_scores, file_signals
from yokeflow.core.task_brief import TaskBrief


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


def test_a_tie_is_general() -> None:
    # one database word and one api word in the title: equally strong, so no domain is sure
    assert classify_domain("database endpoint") == "general"


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
