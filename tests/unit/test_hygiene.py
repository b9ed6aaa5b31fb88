"""Repository hygiene rules: committed dependency folders, secrets, the standard .gitignore."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yokeflow.core.hygiene import (
    STANDARD_GITIGNORE,
    Finding,
    classify_paths,
    is_secret_like,
    missing_gitignore_entries,
    with_gitignore_entries,
)


def test_the_standard_entries_are_those_the_spec_names() -> None:
    for entry in (
        "node_modules/",
        "venv/",
        ".venv/",
        "__pycache__/",
        ".env",
        "dist/",
        "build/",
        "coverage/",
    ):
        assert entry in STANDARD_GITIGNORE


def test_dependency_folders_are_found_at_any_depth_and_counted() -> None:
    findings = classify_paths(
        [
            "src/app.py",
            "node_modules/left-pad/index.js",
            "node_modules/left-pad/package.json",
            "web/node_modules/react/index.js",
            "api/.venv/lib/python3.11/site-packages/x.py",
            "pkg/__pycache__/mod.cpython-311.pyc",
            "docs/venv.md",  # a file named like a folder is not one
        ]
    )
    assert findings == [
        Finding("dependency", "api/.venv", 1),
        Finding("dependency", "node_modules", 2),
        Finding("dependency", "pkg/__pycache__", 1),
        Finding("dependency", "web/node_modules", 1),
    ]
    assert findings[1].message == "dependency folder node_modules/ is committed (2 files)"


def test_secrets_like_files_are_found_but_examples_are_not() -> None:
    assert is_secret_like(".env")
    assert is_secret_like("config/.env.production")
    assert is_secret_like("deploy/server.pem")
    assert is_secret_like("home/.ssh/id_ed25519")
    assert is_secret_like("credentials.json")
    assert not is_secret_like(".env.example")
    assert not is_secret_like("src/environment.ts")
    assert not is_secret_like("keys.py")
    findings = classify_paths([".env", ".env.example", "README.md"])
    assert findings == [Finding("secret", ".env")]
    assert findings[0].message == "secrets-like file .env is committed"


def test_a_clean_repository_has_no_findings() -> None:
    assert classify_paths(["README.md", "src/main.py", ".gitignore", ".env.example"]) == []


def test_missing_entries_accept_equivalent_spellings() -> None:
    text = "# deps\n/node_modules\nvenv/\n!keep\n.venv\ndist\n"
    missing = missing_gitignore_entries(text)
    assert "node_modules/" in missing  # anchored to the root: web/node_modules is not covered
    assert "dist/" not in missing
    assert "venv/" not in missing
    assert ".venv/" not in missing
    assert "__pycache__/" in missing
    assert ".env" in missing


def test_adding_entries_keeps_the_file_and_appends_a_commented_block() -> None:
    fixed = with_gitignore_entries("*.log", [".env", "dist/"])
    assert fixed.startswith("*.log\n\n# Added by YokeFlow")
    assert fixed.endswith(".env\ndist/\n")
    assert with_gitignore_entries("a\n", []) == "a\n"
    assert with_gitignore_entries("", ["x/"]).splitlines()[1:] == ["x/"]


@given(
    st.lists(st.sampled_from([*STANDARD_GITIGNORE, "*.log", "# c", "", "/tmp", "!x"]), max_size=12)
)
def test_fixing_leaves_nothing_missing_and_is_idempotent(lines: list[str]) -> None:
    text = "\n".join(lines)
    fixed = with_gitignore_entries(text, missing_gitignore_entries(text))
    assert missing_gitignore_entries(fixed) == []
    assert with_gitignore_entries(fixed, missing_gitignore_entries(fixed)) == fixed
