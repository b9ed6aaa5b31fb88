"""A container's readiness and liveness probes, as a kubelet runs them (``httpGet`` only).

A probe is checked every ``periodSeconds`` (capped by the node, so tests wait less) after its
``initialDelaySeconds``; readiness turns true after ``successThreshold`` successes and false
after ``failureThreshold`` failures; liveness failing ``failureThreshold`` times in a row has the
container killed and restarted. Probes of another kind (``exec``, ``tcpSocket``, ``grpc``) are
not run: they count as passing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

__all__ = ["http_probe_passes", "watch_probes"]


def _port(container: Mapping[str, Any], port: int | str) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ValueError(f"container {container['name']!r} declares no port named {port!r}")


async def http_probe_passes(
    container: Mapping[str, Any], probe: Mapping[str, Any], host: str
) -> bool:
    """One ``httpGet`` check: a status from 200 to 399 within ``timeoutSeconds`` passes."""
    get = probe["httpGet"]
    scheme = str(get.get("scheme", "HTTP")).lower()
    url = f"{scheme}://{get.get('host') or host}:{_port(container, get['port'])}{get.get('path', '/')}"
    headers = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}
    timeout = aiohttp.ClientTimeout(total=float(probe.get("timeoutSeconds", 1)))
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers, ssl=False) as answer,
        ):
            return 200 <= answer.status < 400
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def watch_probes(
    container: Mapping[str, Any],
    host: str,
    max_period: float,
    on_ready: Callable[[bool], Awaitable[None]],
    on_dead: Callable[[], None],
) -> None:
    """Run the container's probes until cancelled: ``on_ready`` when readiness changes (at once
    when it has no readiness probe), ``on_dead`` once when liveness fails for good."""
    readiness = container.get("readinessProbe")
    liveness = container.get("livenessProbe")
    if not (readiness and "httpGet" in readiness):
        await on_ready(True)
        readiness = None
    if not (liveness and "httpGet" in liveness):
        liveness = None
    if readiness is None and liveness is None:
        return
    started = time.monotonic()
    ready, successes, ready_failures, live_failures = False, 0, 0, 0
    due = {
        "ready": started + float((readiness or {}).get("initialDelaySeconds", 0)),
        "live": started + float((liveness or {}).get("initialDelaySeconds", 0)),
    }
    while True:
        now = time.monotonic()
        if readiness is not None and now >= due["ready"]:
            due["ready"] = now + min(float(readiness.get("periodSeconds", 10)), max_period)
            if await http_probe_passes(container, readiness, host):
                successes, ready_failures = successes + 1, 0
                if not ready and successes >= int(readiness.get("successThreshold", 1)):
                    ready = True
                    await on_ready(True)
            else:
                successes, ready_failures = 0, ready_failures + 1
                if ready and ready_failures >= int(readiness.get("failureThreshold", 3)):
                    ready = False
                    await on_ready(False)
        if liveness is not None and now >= due["live"]:
            due["live"] = now + min(float(liveness.get("periodSeconds", 10)), max_period)
            if await http_probe_passes(container, liveness, host):
                live_failures = 0
            else:
                live_failures += 1
                if live_failures >= int(liveness.get("failureThreshold", 3)):
                    on_dead()
                    return
        pending = [t for k, t in due.items() if (readiness if k == "ready" else liveness)]
        await asyncio.sleep(max(0.05, min(pending) - time.monotonic()))
