"""A real git server on loopback for tests: ``git daemon`` serving bare repositories.

Clients fetch and push over the ``git://`` transport exactly as they would against any remote;
pushing is enabled (``receive-pack``). Anonymous: the test control plane's agents reach it without
credentials. The daemon runs in its own process group and is stopped when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from yokeflow.testing.git_repos import git

__all__ = ["GitServer", "serving_git"]


@dataclass(frozen=True)
class GitServer:
    """A running ``git daemon``: where its repositories live and how to reach them."""

    base: Path
    port: int

    def url(self, name: str) -> str:
        """The clone URL of the bare repository ``name`` (``<name>.git`` under ``base``)."""
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def bare_path(self, name: str) -> Path:
        return self.base / f"{name}.git"

    def publish(self, source: Path, name: str) -> str:
        """Make a bare repository ``name`` holding every branch of ``source``; its URL."""
        target = self.bare_path(name)
        git(self.base, "clone", "-q", "--bare", str(source), str(target))
        return self.url(name)

    def branches(self, name: str) -> dict[str, str]:
        """Branch name → commit id, as the server holds them."""
        listing = git(
            self.bare_path(name),
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/heads",
        )
        return dict(line.split(" ", 1) for line in listing.splitlines() if line)


@contextlib.contextmanager
def serving_git(base: Path, timeout_seconds: float = 20.0) -> Iterator[GitServer]:
    """Run ``git daemon`` over the bare repositories in ``base`` for the block's length."""
    base.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = (base.parent / f"git-daemon-{port}.log").open("ab")
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            str(base),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, timeout_seconds)
        yield GitServer(base, port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"git daemon exited {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"git daemon did not listen on port {port} in {timeout_seconds}s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
