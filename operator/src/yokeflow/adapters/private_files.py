"""Files only their owner may read: transcripts, state files, markers, agents' MCP configs.

Every file is *created* with its final mode (0600, or 0700 for a script) and every folder this
module creates with 0700 — never created open and tightened with ``chmod`` afterwards, which
leaves a moment in which anyone may read it. Whole files are written to a temporary name in the
same folder (created exclusively, fsynced) and renamed over the target, so a reader sees the old
file or the new one, never half of one, and a kill leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO

__all__ = ["FILE_MODE", "FOLDER_MODE", "append_private", "private_folder", "write_private"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """``path`` as a folder; each missing component is created 0700 (existing ones are left)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created meanwhile by someone else
            folder.mkdir(mode=FOLDER_MODE)
    if not path.is_dir():
        raise NotADirectoryError(str(path))
    return path


def write_private(path: Path, content: str | bytes, *, mode: int = FILE_MODE) -> Path:
    """Replace ``path`` atomically with ``content``, created with ``mode`` (default 0600)."""
    private_folder(path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path


def append_private(path: Path) -> IO[str]:
    """``path`` opened for appending text; created 0600 (in 0700 folders) when it is new."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    return os.fdopen(fd, "a", encoding="utf-8")
