"""A leash for the agent CLI: its own process group, and death with the run that started it.

The SDK starts the CLI as a plain child process. Started through the script written here, the
CLI instead leads a new session and process group (``setsid``) — so all of a session's processes
can be ended together — and the kernel kills it the moment its parent, the ``yokeflow`` process,
dies (``setpriv --pdeathsig KILL``), SIGKILL included. Both tools are util-linux, present on every
Linux this runs on; where one is missing the CLI starts as before, and a killed run's sessions
are still found by their marker and ended by the next run (``processes.reap``).
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from yokeflow.adapters.claude.session_files import bundled_cli
from yokeflow.adapters.private_files import write_private
from yokeflow.errors import AgentError

__all__ = ["leashed_cli"]


def leashed_cli(folder: Path, cli: Path | None = None) -> Path | None:
    """Write (once) the leashed launcher of ``cli`` (default: the CLI the SDK would start) into
    ``folder`` and return its path; None when ``setsid`` / ``setpriv`` or the CLI are missing.

    The session's own launcher (``session_files``: the allow-listed environment) starts this
    script, which starts the CLI: every step ``exec``-s, so the CLI keeps the pid the SDK knows."""
    try:
        cli = cli or bundled_cli()
    except AgentError:
        return None
    setsid, setpriv = shutil.which("setsid"), shutil.which("setpriv")
    if setsid is None or setpriv is None:
        return None
    script = folder / "claude-leashed"
    text = (
        "#!/bin/sh\n"
        "# Written by YokeFlow: the agent CLI in its own process group, killed with its parent.\n"
        f"exec {shlex.quote(setsid)} {shlex.quote(setpriv)} --pdeathsig KILL -- "
        f'{shlex.quote(str(cli))} "$@"\n'
    )
    if not script.is_file() or script.read_text(encoding="utf-8") != text:
        write_private(script, text, mode=0o700)  # in 0700 folders, replaced atomically
    return script
