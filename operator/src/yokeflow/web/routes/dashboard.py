"""The dashboard's files: ``/`` (its page) and ``/assets/…``, built by the set-up command.

Opening ``/?token=…`` (the URL ``yokeflow api`` prints) stores the token in a strict, HTTP-only
cookie and redirects to ``/``; the page and its assets then authenticate with that cookie.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from yokeflow.web.auth import COOKIE, authenticated
from yokeflow.web.deps import WebDeps

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_NO_TOKEN = """<!doctype html><meta charset="utf-8"><title>YokeFlow</title>
<body style="font-family:sans-serif;margin:3em"><h1>YokeFlow</h1>
<p>Open the dashboard with the URL that <code>yokeflow api</code> (or <code>yokeflow run
--serve</code>) printed: it carries the token, e.g. <code>http://host:port/?token=…</code>.</p>"""

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>YokeFlow</title>
<body style="font-family:sans-serif;margin:3em"><h1>YokeFlow</h1>
<p>The dashboard is not built in this installation: run <code>bash scripts/setup.sh</code>.
The API works without it (<a href="/docs">/docs</a>).</p>"""


def _static(request: Request) -> Path | None:
    deps: WebDeps = request.app.state.deps
    folder = deps.static_dir
    return folder if folder is not None and (folder / "index.html").is_file() else None


@router.get("/")
async def index(request: Request) -> Response:
    deps: WebDeps = request.app.state.deps
    if "token" in request.query_params:
        if not authenticated(request, deps.token):
            return HTMLResponse(_NO_TOKEN, status_code=401)
        target = "/" + (f"#{request.url.fragment}" if request.url.fragment else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, request.query_params["token"], httponly=True, samesite="strict", path="/"
        )
        return response
    if not authenticated(request, deps.token):
        return HTMLResponse(_NO_TOKEN, status_code=401)
    folder = _static(request)
    if folder is None:
        return HTMLResponse(_NOT_BUILT)
    return FileResponse(folder / "index.html", headers={"Cache-Control": "no-store"})


@router.get("/assets/{name:path}")
async def asset(name: str, request: Request) -> Response:
    deps: WebDeps = request.app.state.deps
    folder = _static(request)
    if not authenticated(request, deps.token):
        return HTMLResponse(_NO_TOKEN, status_code=401)
    if folder is None:
        return HTMLResponse("not built", status_code=404)
    root = (folder / "assets").resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return HTMLResponse("not found", status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})
