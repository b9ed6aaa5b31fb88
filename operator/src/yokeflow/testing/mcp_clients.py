"""Real MCP client sessions against the task manager, for tests and benchmarks.

``stdio_session(launch)`` starts ``python -m yokeflow_mcp serve --stdio`` as the SDK's
``stdio_client`` does for an agent; ``http_server(url, secret)`` runs ``yokeflow mcp serve
--http`` as its own process and ``http_session(endpoint, token)`` connects to it with a bearer
token; ``call(session, tool, **arguments)`` returns a tool's JSON result or raises
:class:`ToolCallError` with the message the agent would read. Reusable by any area's tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from yokeflow_mcp.launch import StdioLaunch, http_launch

__all__ = [
    "ToolCallError",
    "call",
    "free_port",
    "http_server",
    "http_session",
    "stdio_session",
]


class ToolCallError(Exception):
    """A tool answered with an error; ``str()`` is the text the agent sees."""


@asynccontextmanager
async def stdio_session(launch: StdioLaunch) -> AsyncIterator[ClientSession]:
    """An initialized session with a stdio server started from ``launch``."""
    params = StdioServerParameters(
        command=launch.command, args=list(launch.args), env=dict(launch.env)
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(
    base_url: str, token: str | None, *, connect_seconds: float = 60.0
) -> AsyncIterator[ClientSession]:
    """An initialized session with the HTTP server at ``base_url`` (None: no token sent)."""
    launch = http_launch(base_url, token or "")
    headers = launch.headers if token is not None else {}
    async with (
        httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(connect_seconds, read=300)
        ) as client,
        streamable_http_client(launch.url, http_client=client) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call ``tool``; its JSON result, or :class:`ToolCallError` with the error text."""
    result = await session.call_tool(tool, arguments)
    text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
    if result.isError:
        raise ToolCallError(text)
    if result.structuredContent is None:
        raise ToolCallError(f"{tool} returned no structured content: {text}")
    return dict(result.structuredContent)


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(
    database_url: str, secret: str, *, log: Path | None = None, startup_timeout: float = 60.0
) -> Iterator[str]:
    """``yokeflow mcp serve --http`` in its own process; yields its base URL, stops it after.

    The server's output goes to ``log`` (default: a temporary file shown if it fails to start).
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="yf-mcp-") as tmp:
        secret_file = Path(tmp) / "token-secret"
        secret_file.write_text(secret, encoding="utf-8")
        path = log or Path(tmp) / "server.log"
        with open(path, "ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "yokeflow_mcp",
                    "serve",
                    "--http",
                    "--port",
                    str(port),
                    "--database-url",
                    database_url,
                    "--token-secret-file",
                    str(secret_file),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(process, base, path, startup_timeout)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], base: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the MCP HTTP server exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the MCP HTTP server did not answer within {timeout} s")
        time.sleep(0.1)
