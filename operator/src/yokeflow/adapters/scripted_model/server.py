"""Running the scripted model server: in a background thread (tests, demos) or in the foreground."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path

import uvicorn

from yokeflow.adapters.scripted_model.app import ScriptedModel, build_app
from yokeflow.adapters.scripted_model.recording import RequestLog
from yokeflow.core.scenario import Scenario, parse_scenario
from yokeflow.errors import ScenarioError

__all__ = ["ScriptedModelServer", "load_scenario", "serve"]


def load_scenario(path: Path) -> Scenario:
    """Read and parse a scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ScenarioError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _config(model: ScriptedModel, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(model),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )


class ScriptedModelServer:
    """A scripted model server on a local port, served from a background thread.

    ``with ScriptedModelServer(scenario) as server:`` starts it on a free port; ``server.url``
    is the ``ANTHROPIC_BASE_URL`` to give the CLI and ``server.requests`` what it was asked.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
        log_level: str = "warning",
    ) -> None:
        self.model = ScriptedModel(scenario, RequestLog(record))
        self._host = host
        self._port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._bound_port: int | None = None

    @property
    def requests(self) -> RequestLog:
        """Every request answered so far."""
        return self.model.requests

    @property
    def scenario(self) -> Scenario:
        """The scenario in force; assigning one changes the answers of later requests."""
        return self.model.scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self.model.scenario = scenario

    @property
    def port(self) -> int:
        """The port listened on (known once started; kept after it stops)."""
        if self._bound_port is None:
            raise RuntimeError("the scripted model server is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """The base URL to give the CLI as ``ANTHROPIC_BASE_URL``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in a background thread; returns once requests are accepted."""
        self._sock = _bind(self._host, self._port)
        self._bound_port = int(self._sock.getsockname()[1])
        self._server = uvicorn.Server(_config(self.model, self._log_level))
        sockets = [self._sock]
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=sockets)),
            name=f"scripted-model:{self.port}",
            daemon=True,
        )
        self._thread.start()
        for _ in range(500):
            if server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not server.started:
            raise ScenarioError(f"the scripted model server did not start on {self.url}")

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> ScriptedModelServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(scenario_path: Path, *, host: str, port: int, record: Path | None) -> None:
    """Serve ``scenario_path`` in the foreground until interrupted (the CLI command)."""
    scenario = load_scenario(scenario_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    model = ScriptedModel(scenario, RequestLog(record))
    sock = _bind(host, port)
    logging.getLogger("yokeflow.scripted_model").info(
        "serving %s on http://%s:%d (%d rules)",
        scenario_path,
        host,
        sock.getsockname()[1],
        len(scenario.rules),
    )
    try:
        uvicorn.Server(_config(model, "warning")).run(sockets=[sock])
    finally:
        sock.close()
