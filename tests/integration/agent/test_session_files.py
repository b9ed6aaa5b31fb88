"""Private files: created owner-only from the start, written whole; a session's folder and launcher."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from yokeflow.adapters.claude.session_files import SessionFiles
from yokeflow.adapters.claude.transcript import SessionLog
from yokeflow.adapters.private_files import append_private, private_folder, write_private
from yokeflow.local.marker import ProjectMarker, read_marker, write_marker


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    # With umask 0 a file created open and tightened afterwards would show as open: the modes
    # seen below are the ones the files were created with.
    old = os.umask(0)
    yield None
    os.umask(old)


def test_folders_are_created_0700_and_files_0600(tmp_path: Path) -> None:
    folder = private_folder(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == 0o700
    assert _mode(folder) == 0o700
    path = write_private(folder / "state.json", '{"x": 1}')
    assert _mode(path) == 0o600
    assert path.read_text() == '{"x": 1}'
    with append_private(folder / "log.jsonl") as out:
        out.write("one\n")
    with append_private(folder / "log.jsonl") as out:
        out.write("two\n")
    assert (folder / "log.jsonl").read_text() == "one\ntwo\n"
    assert _mode(folder / "log.jsonl") == 0o600


def test_an_existing_folder_is_left_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_folder(shared / "own")
    assert _mode(shared) == 0o755
    assert _mode(shared / "own") == 0o700


def test_a_rewrite_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = write_private(tmp_path / "s" / "f.txt", "old")
    inode = path.stat().st_ino
    write_private(path, "new content")
    assert path.read_text() == "new content"
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.txt"]


def test_the_marker_is_owner_only_from_the_start(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    marker = ProjectMarker(project="p", project_id=1, database_url="postgresql://u:pw@h/db")
    path = write_marker(tmp_path, marker)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert read_marker(tmp_path) == marker


def test_a_transcript_is_owner_only(tmp_path: Path) -> None:
    log = SessionLog(tmp_path / ".yokeflow" / "transcripts" / "t-attempt1.jsonl", tmp_path)
    log.write("request", {"prompt": "x"})
    log.close()
    assert _mode(tmp_path / ".yokeflow" / "transcripts" / "t-attempt1.jsonl") == 0o600
    assert _mode(tmp_path / ".yokeflow" / "transcripts") == 0o700


def test_a_sessions_folder_holds_its_mcp_config_and_is_removed(tmp_path: Path) -> None:
    with SessionFiles(tmp_path) as files:
        assert files.folder is not None
        assert _mode(files.folder) == 0o700
        servers = {"yokeflow": {"type": "http", "url": "http://x/mcp", "headers": {"A": "t"}}}
        config = files.mcp_config(servers)
        assert _mode(config) == 0o600
        assert json.loads(config.read_text()) == {"mcpServers": servers}
        folder = files.folder
    assert not folder.exists()


def test_the_launcher_removes_the_variables_it_is_told(tmp_path: Path) -> None:
    program = tmp_path / "show-env"
    program.write_text('#!/bin/sh\necho "args: $*"\nenv\n')
    program.chmod(0o755)
    with SessionFiles(tmp_path) as files:
        launcher = files.launcher(program, ["SECRET_ONE", "SECRET_TWO"])
        assert _mode(launcher) == 0o700
        assert "SECRET_ONE" in launcher.read_text()
        done = subprocess.run(
            [str(launcher), "--flag", "a b"],
            env={"PATH": "/usr/bin:/bin", "SECRET_ONE": "s1", "SECRET_TWO": "s2", "KEEP": "k"},
            capture_output=True,
            text=True,
            check=True,
        )
    lines = done.stdout.splitlines()
    assert lines[0] == "args: --flag a b"
    names = {line.partition("=")[0] for line in lines[1:]}
    assert "KEEP" in names
    assert not names & {"SECRET_ONE", "SECRET_TWO"}
    assert "s1" not in done.stdout
