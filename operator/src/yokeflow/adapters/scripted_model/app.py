"""The scripted model server's HTTP application (Starlette): routes, scripted delays, records."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from yokeflow.adapters.scripted_model import wire
from yokeflow.adapters.scripted_model.recording import RecordedRequest, RequestLog
from yokeflow.core.scenario import (
    ErrorTurn,
    Reply,
    Scenario,
    TextTurn,
    ToolTurn,
    Usage,
    choose_reply,
)

__all__ = ["ScriptedModel", "build_app"]

log = logging.getLogger("yokeflow.scripted_model")


class ScriptedModel:
    """The server's state: the scenario in force and the log of requests."""

    def __init__(self, scenario: Scenario, requests: RequestLog | None = None) -> None:
        self.scenario = scenario
        self.requests = requests if requests is not None else RequestLog()


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}},
        status_code=status,
        headers={"x-should-retry": "false"},
    )


def _describe(reply: Reply) -> str:
    turn = reply.turn
    if isinstance(turn, ToolTurn):
        return f"tool {turn.tool}"
    if isinstance(turn, ErrorTurn):
        return f"error {turn.error.status}"
    return "text"


def build_app(model: ScriptedModel) -> Starlette:
    """The Starlette application answering from ``model.scenario``."""

    async def messages(request: Request) -> Response:
        arrived = time.time()
        try:
            body = json.loads(await request.body())
            view = wire.read_request(body, request.headers)
        except (json.JSONDecodeError, UnicodeDecodeError, wire.WireError) as exc:
            problem = getattr(exc, "msg", None) or str(exc)
            log.error("bad request to %s: %s", request.url.path, problem)
            model.requests.add(
                RecordedRequest(arrived, request.url.path, 400, "invalid", reply=problem)
            )
            return _error(400, "invalid_request_error", f"scripted model: {problem}")
        conversation = view.conversation
        if view.side:
            reply = Reply(TextTurn(text=wire.SIDE_REPLY), "side", 0.0, Usage(), True)
        else:
            reply = choose_reply(model.scenario, conversation)
            if not reply.matched and conversation.turn == 0:
                log.warning(
                    "no rule matched (task=%r, prompt=%r): answering with the default",
                    conversation.task,
                    conversation.prompt[:200],
                )
        status = reply.turn.error.status if isinstance(reply.turn, ErrorTurn) else 200
        model.requests.add(
            RecordedRequest(
                at=arrived,
                path=request.url.path,
                status=status,
                kind="side" if view.side else "turn",
                model=view.model,
                stream=view.stream,
                task=conversation.task,
                cwd=conversation.cwd,
                prompt=conversation.prompt,
                system=view.system,
                tools=view.tools,
                turn=None if view.side else conversation.turn,
                rule=reply.rule,
                reply=_describe(reply),
            )
        )
        log.info(
            "task=%s turn=%d rule=%s -> %s",
            conversation.task,
            conversation.turn,
            reply.rule,
            _describe(reply),
        )
        if isinstance(reply.turn, ErrorTurn):
            await anyio.sleep(reply.delay_seconds)
            headers = {"x-should-retry": "true" if reply.turn.error.retry else "false"}
            return JSONResponse(wire.error_body(reply.turn), status_code=status, headers=headers)
        if not view.stream:
            await anyio.sleep(reply.delay_seconds)
            return JSONResponse(wire.message_body(reply, view.model))

        async def events() -> AsyncIterator[str]:
            # The delay is inside the stream: headers go out at once, the first event comes late,
            # as with a real model that is thinking.
            await anyio.sleep(reply.delay_seconds)
            for event in wire.stream_events(reply, view.model):
                yield event

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def count_tokens(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.error("bad count_tokens request: %s", exc)
            return _error(400, "invalid_request_error", f"scripted model: {exc}")
        model.requests.add(RecordedRequest(time.time(), request.url.path, 200, "count_tokens"))
        return JSONResponse({"input_tokens": wire.estimate_tokens(body)})

    async def unknown(request: Request) -> Response:
        log.error("unknown endpoint %s %s", request.method, request.url.path)
        model.requests.add(
            RecordedRequest(
                time.time(), request.url.path, 404, "invalid", reply=f"{request.method} unknown"
            )
        )
        return _error(404, "not_found_error", f"scripted model: no endpoint {request.url.path}")

    return Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/{path:path}", unknown, methods=["GET", "POST", "PUT", "DELETE", "HEAD"]),
        ]
    )
