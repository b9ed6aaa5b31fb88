"""Windows-hostile task titles become valid, distinct branch and folder names.

Validity of branches is checked by git itself (``git check-ref-format --branch``); folders by
the rules of Windows (reserved device names, forbidden characters, trailing dots and spaces).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from yokeflow.core.naming import MAX_BRANCH_LENGTH, sanitize_branch_name, sanitize_path_component

HOSTILE = [
    "CON",
    "con",
    "Con.txt",
    "PRN",
    "AUX",
    "NUL",
    "COM1",
    "LPT9",
    "a:b",
    "a:b:",
    'quote"d',
    "pipe|d",
    "star*",
    "what?",
    "<angle>",
    "back\\slash",
    "trailing.",
    "trailing...",
    "trailing. ",
    " spaced ",
    ".hidden",
    "..",
    ".",
    "",
    "a..b",
    "ref.lock",
    "at@{brace",
    "tilde~caret^",
    "x" * 300,
    "x" * 301,
    "y" * 299 + ".",
    "日本語のタスク",
    "tab\tand\nnewline",
    "データベースの移行" * 10,
    "COM\u00b9",
    "lpt\u00b3.txt",
    "CONIN$",
    "conout$.log",
    "CON .txt",
]
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]
}


def check_ref_format(name: str) -> bool:
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    return done.returncode == 0


def valid_windows_folder(name: str) -> bool:
    return (
        bool(name)
        and not re.search(r'[\x00-\x1f<>:"/\\|?*]', name)
        and not name.endswith((".", " "))
        and name.split(".")[0].rstrip(" ").upper() not in _WINDOWS_RESERVED
    )


def test_branch_names_pass_git_check_ref_format_and_stay_distinct() -> None:
    names = [sanitize_branch_name(f"7-{title}", prefix="yokeflow/task/") for title in HOSTILE]
    bad = [n for n in names if not check_ref_format(n)]
    assert bad == []
    assert all(len(n.encode()) <= MAX_BRANCH_LENGTH for n in names)
    assert len(set(names)) == len(names)


def test_bare_titles_make_valid_branches_too() -> None:
    names = [sanitize_branch_name(title) for title in HOSTILE]
    assert [n for n in names if not check_ref_format(n)] == []
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("max_length", [48, 100])
def test_folder_names_are_valid_on_windows_and_distinct(max_length: int) -> None:
    names = [sanitize_path_component(title, max_length=max_length) for title in HOSTILE]
    assert [n for n in names if not valid_windows_folder(n)] == []
    assert all(len(n.encode()) <= max_length for n in names)
    assert len({n.lower() for n in names}) == len(names)  # Windows folders ignore case


def test_reserved_device_names_never_survive() -> None:
    for title in (
        "CON",
        "con",
        "Con.txt",
        "nul.tar.gz",
        "LPT1",
        "com9.md",
        "COM\u00b9",
        "LPT\u00b2",
        "com\u00b3.txt",
        "CONIN$",
        "CONOUT$",
        "conout$.md",
        "COM0",
    ):
        folder = sanitize_path_component(title)
        assert folder.split(".")[0].rstrip(" ").upper() not in _WINDOWS_RESERVED, folder
        branch = sanitize_branch_name(title).rsplit("/", 1)[-1]
        assert branch.split(".")[0].upper() not in _WINDOWS_RESERVED, branch


def test_long_titles_are_cut_but_keep_their_identity() -> None:
    a = sanitize_path_component("x" * 300 + "a", max_length=48)
    b = sanitize_path_component("x" * 300 + "b", max_length=48)
    assert len(a) <= 48
    assert a != b


@pytest.mark.parametrize("limit", [48, 100, 255])
def test_lengths_are_counted_in_utf8_bytes(limit: int) -> None:
    title = "データベース移行" * 11  # 88 characters, 264 bytes
    folder = sanitize_path_component(title, max_length=limit)
    assert len(folder.encode("utf-8")) <= limit
    branch = sanitize_branch_name(title, prefix="yokeflow/task/")
    assert len(branch.encode("utf-8")) <= MAX_BRANCH_LENGTH
    assert check_ref_format(branch)


def test_an_83_character_cjk_title_makes_a_worktree_git_accepts(tmp_path: Path) -> None:
    """`git worktree add` failed with "File name too long" when names were cut in characters."""
    title = (
        "ユーザー認証のためのデータベース移行スクリプトを追加する" * 3
        + "完了済みのタスク一覧を表示する機能を追加します"
    )
    title = title[:83]
    assert len(title) == 83
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
        check=True,
    )
    branch = sanitize_branch_name(f"7-{title}" * 2, prefix="yokeflow/task/")
    folder = tmp_path / sanitize_path_component(f"task-7-{title}" * 2, max_length=255)
    done = subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "-q", "-b", branch, str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / ".git").exists()
