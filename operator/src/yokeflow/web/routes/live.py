"""``/api/ws/{project_id}``: a snapshot on connect, then every run event as it happens.

Messages (JSON):

* ``{"type": "snapshot", "epoch": E, "seq": S, "snapshot": {...}}`` — the project's state; every
  event numbered above ``S`` follows, so nothing between the snapshot and the stream is lost.
* ``{"type": "resumed", "epoch": E, "seq": N}`` — the client reconnected with ``?after=N&epoch=E``
  and every later event is still kept: they follow, without a snapshot.
* ``{"type": "event", "seq": n, "event": {"kind": "task_start", ...}}``.
* ``{"type": "ping", "seq": n}`` every 15 s of silence.

Authentication as for the REST routes (the dashboard's cookie, a bearer header, or ``?token=``);
a connection without it is refused before the handshake completes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from yokeflow.errors import YokeflowError
from yokeflow.services import board, runs
from yokeflow.services.eta import eta_seconds
from yokeflow.web.auth import authenticated
from yokeflow.web.deps import WebDeps
from yokeflow.web.views import board_task_json, jsonable

__all__ = ["router", "snapshot"]

router = APIRouter(tags=["live"])

HEARTBEAT_SECONDS = 15.0


async def snapshot(deps: WebDeps, project_id: int) -> dict[str, Any]:
    """Everything the dashboard draws, read from the store now."""
    state = await runs.project_status(deps.store, project_id, deps.runs)
    found = await board.board(deps.store, project_id)
    progress = await deps.store.parallel_progress(project_id)
    return {
        "project": jsonable(state.project),
        "status": {
            **state.to_dict(),
            "eta_seconds": await eta_seconds(deps.store, project_id, deps.settings.parallel.agents),
        },
        "epics": [jsonable(e) for e in found.epics],
        "tasks": [board_task_json(t) for t in found.tasks],
        "batches": [jsonable(p) for p in progress],
    }


async def _send_snapshot(ws: WebSocket, deps: WebDeps, project_id: int) -> int:
    # The number is taken before reading the store: an event that lands while the snapshot is
    # read is sent again after it (applying an event twice is harmless; missing one is not).
    seq = deps.events.last_seq(project_id)
    data = await snapshot(deps, project_id)
    await ws.send_json(
        {"type": "snapshot", "epoch": deps.events.epoch, "seq": seq, "snapshot": data}
    )
    return seq


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so that a close is noticed."""
    while True:
        await ws.receive_text()


@router.websocket("/api/ws/{project_id}")
async def live(ws: WebSocket, project_id: int) -> None:
    deps: WebDeps = ws.app.state.deps
    if not authenticated(ws, deps.token):
        await ws.close(code=1008, reason="this API needs its token")
        return
    try:
        await runs.project_or_404(deps.store, project_id)
    except YokeflowError as exc:
        await ws.close(code=1008, reason=str(exc)[:120])
        return
    await ws.accept()
    reader = asyncio.create_task(_drain(ws))
    try:
        await _stream(ws, deps, project_id, reader)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader


async def _stream(
    ws: WebSocket, deps: WebDeps, project_id: int, reader: asyncio.Task[None]
) -> None:
    log = deps.events
    after = ws.query_params.get("after")
    epoch = ws.query_params.get("epoch")
    cursor: int | None = None
    resumable = after is not None and after.isdigit() and epoch == log.epoch
    if resumable and after is not None and log.since(project_id, int(after)) is not None:
        cursor = int(after)
        await ws.send_json({"type": "resumed", "epoch": log.epoch, "seq": cursor})
    if cursor is None:
        cursor = await _send_snapshot(ws, deps, project_id)
    while not reader.done():
        pending = log.since(project_id, cursor)
        if pending is None:  # fell behind the kept events: start over from the store
            cursor = await _send_snapshot(ws, deps, project_id)
            continue
        for entry in pending:
            await ws.send_json({"type": "event", **entry})
            cursor = entry["seq"]
        waiter = asyncio.create_task(log.wait(project_id, cursor, HEARTBEAT_SECONDS))
        await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            break
        if log.last_seq(project_id) == cursor:
            await ws.send_json({"type": "ping", "seq": cursor})
