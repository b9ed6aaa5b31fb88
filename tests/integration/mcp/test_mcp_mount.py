"""The HTTP app mounted inside another ASGI app (as the API server mounts it at /mcp) still
refuses every request without a valid token; only the health probe is open."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from yokeflow_mcp import BearerScope, Scope, SignedTokens, build_server, http_app


class _NoStore:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request reached the store ({name})")


async def test_a_mounted_app_refuses_requests_without_a_valid_token() -> None:
    tokens = SignedTokens(b"mount-test-secret-0123")
    server = build_server(_NoStore(), _NoStore(), BearerScope(tokens), http_path="/")
    host = Starlette(routes=[Mount("/mcp", app=http_app(server, tokens, lambda: 0.0))])
    forged = SignedTokens(b"other-secret-0123456789").issue(Scope(1))
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for path in ("/mcp/", "/mcp/anything"):
            for headers in ({}, {"Authorization": f"Bearer {forged}"}):
                response = await client.post(path, json={}, headers=headers)
                assert response.status_code == 401, (path, headers)
        assert (await client.get("/mcp/healthz")).text == "ok"
