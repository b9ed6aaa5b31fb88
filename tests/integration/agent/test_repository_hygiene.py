"""Repository hygiene on real git repositories: validate_repository, fix_gitignore, the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from yokeflow.adapters.git_hygiene import fix_gitignore, is_git_repository, validate_repository
from yokeflow.core.hygiene import STANDARD_GITIGNORE, Finding
from yokeflow.testing.agents import git, git_repository


def _dirty(tmp_path: Path) -> Path:
    return git_repository(
        tmp_path / "repo",
        {
            "src/main.py": "print(1)\n",
            "node_modules/left-pad/index.js": "module.exports = 1\n",
            "web/node_modules/react/index.js": "x\n",
            ".venv/lib/site.py": "x\n",
            ".env": "TOKEN=secret\n",
            ".env.example": "TOKEN=\n",
            ".gitignore": "*.log\n/node_modules\n",
        },
    )


def test_committed_dependencies_and_secrets_are_found(tmp_path: Path) -> None:
    repo = _dirty(tmp_path)
    assert is_git_repository(repo)
    assert not is_git_repository(tmp_path)
    # The root node_modules/ was ignored; the anchored "/node_modules" missed web/node_modules.
    assert validate_repository(repo) == [
        Finding("dependency", ".venv", 1),
        Finding("dependency", "web/node_modules", 1),
        Finding("secret", ".env"),
    ]


def test_fix_gitignore_adds_only_what_is_missing_and_is_idempotent(tmp_path: Path) -> None:
    repo = _dirty(tmp_path)
    added = fix_gitignore(repo)
    assert added == list(STANDARD_GITIGNORE)
    text = (repo / ".gitignore").read_text()
    assert text.startswith("*.log\n/node_modules\n\n# Added by YokeFlow")
    assert fix_gitignore(repo) == []
    assert (repo / ".gitignore").read_text() == text
    # New dependency files are ignored from now on (already tracked ones stay tracked).
    (repo / "venv").mkdir()
    (repo / "venv" / "pyvenv.cfg").write_text("x\n")
    assert git(repo, "status", "--porcelain", "--untracked-files=all").split() == [
        "M",
        ".gitignore",
    ]


def test_a_repository_without_gitignore_gets_one(tmp_path: Path) -> None:
    repo = git_repository(tmp_path / "clean")
    assert validate_repository(repo) == []
    assert fix_gitignore(repo) == list(STANDARD_GITIGNORE)
    assert (repo / ".gitignore").read_text().splitlines()[1:] == list(STANDARD_GITIGNORE)


def test_the_hygiene_command(tmp_path: Path) -> None:
    yokeflow = str(Path(sys.executable).with_name("yokeflow"))
    repo = _dirty(tmp_path)
    found = subprocess.run(
        [yokeflow, "runner", "hygiene", str(repo), "--fix"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 1
    assert "dependency folder web/node_modules/ is committed (1 files)" in found.stdout
    assert "secrets-like file .env is committed" in found.stdout
    assert ".gitignore: added node_modules/, venv/" in found.stdout
    clean = git_repository(tmp_path / "clean")
    ok = subprocess.run(
        [yokeflow, "runner", "hygiene", str(clean)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0
    assert ok.stdout.startswith("clean:")
    assert not (clean / ".gitignore").exists()
    not_git = subprocess.run(
        [yokeflow, "runner", "hygiene", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert not_git.returncode == 2
    assert "is not a git repository" in not_git.stderr
