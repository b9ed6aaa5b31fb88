"""The WebSocket: a snapshot on connect, events as they happen, resumed after a reconnect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from yokeflow.core.events import TaskComplete, TaskStart

from .conftest import TOKEN, Api

pytestmark = pytest.mark.postgres


def _client(api: Api, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=ASGIWebSocketTransport(app=api.app), base_url="http://api.test", headers=headers
    )


def _start(key: str) -> TaskStart:
    return TaskStart(key, "db", 1, "claude-haiku-4-5", "/tmp/w", 1.0)


async def test_snapshot_events_and_resume(api: Api) -> None:
    pid = api.project.id
    sink = api.deps.events.sink(pid)
    sink.publish(_start("db-schema"))  # before anyone listens: in the snapshot's numbering
    async with _client(api) as client:
        async with aconnect_ws(f"/api/ws/{pid}", client) as ws:
            first: dict[str, Any] = await ws.receive_json()
            assert first["type"] == "snapshot"
            assert first["seq"] == 1
            assert [t["key"] for t in first["snapshot"]["tasks"]] == [
                "db-schema",
                "db-seed",
                "api-list",
            ]
            assert first["snapshot"]["status"]["tasks"]["pending"] == 3
            epoch = first["epoch"]
            sink.publish(TaskComplete("db-schema", True, 1, 2.5, 0.01, None, 3.5))
            event = await ws.receive_json()
            assert event["type"] == "event"
            assert event["seq"] == 2
            assert event["event"]["kind"] == "task_complete"
            assert event["event"]["task"] == "db-schema"
        # Disconnected: two events happen meanwhile; a reconnect gets both, in order.
        sink.publish(_start("db-seed"))
        sink.publish(_start("api-list"))
        async with aconnect_ws(f"/api/ws/{pid}?after=2&epoch={epoch}", client) as ws:
            assert await ws.receive_json() == {"type": "resumed", "epoch": epoch, "seq": 2}
            got = [await ws.receive_json() for _ in range(2)]
            assert [(e["seq"], e["event"]["task"]) for e in got] == [
                (3, "db-seed"),
                (4, "api-list"),
            ]
        # Another process's numbering (an unknown epoch): a fresh snapshot instead.
        async with aconnect_ws(f"/api/ws/{pid}?after=2&epoch=other", client) as ws:
            fresh = await ws.receive_json()
            assert fresh["type"] == "snapshot"
            assert fresh["seq"] == 4


async def test_events_older_than_the_buffer_give_a_snapshot(api: Api) -> None:
    pid = api.project.id
    api.deps.events.capacity = 2
    log = api.deps.events
    log._streams.clear()  # the capacity applies to streams made from now on
    for key in ("db-schema", "db-seed", "api-list"):
        log.sink(pid).publish(_start(key))
    async with (
        _client(api) as client,
        aconnect_ws(f"/api/ws/{pid}?after=0&epoch={log.epoch}", client) as ws,
    ):
        message = await ws.receive_json()
        assert message["type"] == "snapshot"
        assert message["seq"] == 3


async def test_refused_without_token_or_project(api: Api) -> None:
    async with _client(api, token=None) as client:
        with pytest.raises(WebSocketDisconnect) as caught:
            async with aconnect_ws(f"/api/ws/{api.project.id}", client) as ws:
                await ws.receive_json()
        assert caught.value.code == 1008
        assert "token" in (caught.value.reason or "")
    async with _client(api) as client:
        with pytest.raises(WebSocketDisconnect) as caught:
            async with aconnect_ws("/api/ws/999999", client) as ws:
                await ws.receive_json()
        assert caught.value.code == 1008
        assert "does not exist" in (caught.value.reason or "")
