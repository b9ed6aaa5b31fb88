"""How many bytes a folder tree holds on disk (the worktrees' metric)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["tree_bytes"]


def tree_bytes(root: Path) -> int:
    """Disk blocks used under ``root`` in bytes, each file counted once (hard links too);
    symbolic links are not followed; 0 when ``root`` does not exist. Files that vanish while
    it walks (a worktree being removed) are skipped."""
    total = 0
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
            except OSError:
                continue
            identity = (stat.st_dev, stat.st_ino)
            if identity in seen:
                continue
            seen.add(identity)
            total += stat.st_blocks * 512
    return total
