"""The one module that talks to the Kubernetes API (kopf's habit: the client lives in one place).

``KubeApi`` sends JSON to API paths and returns JSON (raw payloads, never the client library's
generated models), and streams watch events. It maps every failure onto our error tree once:
``KubeRejectedError`` for refusals that would repeat (its ``reason`` is the API's own word, such as
``AlreadyExists`` or ``NotFound``), ``KubeUnavailableError`` for what may pass (unreachable, 429
with its Retry-After, 5xx, write conflicts). Connection set-up (a kubeconfig file, or the pod's
service account inside a cluster) comes from ``kubernetes_asyncio``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from yokeflow.errors import KubeRejectedError, KubeUnavailableError

__all__ = ["Connection", "JsonObject", "KubeApi", "WatchEvent", "retry_after_seconds"]

JsonObject = dict[str, Any]
"""A raw Kubernetes payload, as the API sends it."""

PatchKind = Literal["merge", "strategic", "json"]

_PATCH_TYPES: Mapping[PatchKind, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
# Refusals that may pass: a throttled, failing or racing request.
_TEMPORARY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK``, and its object."""

    type: str
    object: JsonObject


@dataclass(frozen=True)
class Connection:
    """How this client reaches the API server, for others that need the same identity (kopf)."""

    server: str
    ca_path: str | None
    insecure: bool
    scheme: str | None
    token: str | None
    certificate_path: str | None
    private_key_path: str | None


def retry_after_seconds(header: str | None) -> float | None:
    """The delay a ``Retry-After`` header asks for, in seconds (``None`` if absent or a date)."""
    if header is None:
        return None
    try:
        return max(0.0, float(header.strip()))
    except ValueError:
        return None


class KubeApi:
    """An authenticated connection to one API server; close it when done (or use ``async with``)."""

    def __init__(self, api_client: Any, request_timeout: float) -> None:
        self._api = api_client
        self._timeout = request_timeout

    @classmethod
    async def connect(cls, kubeconfig: Path | None, request_timeout: float = 30.0) -> KubeApi:
        """Connect with a kubeconfig file, or with the pod's service account when ``None``."""
        configuration = k8s_client.Configuration()
        if kubeconfig is None:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await k8s_config.load_kube_config(
                config_file=str(kubeconfig), client_configuration=configuration
            )
        return cls(k8s_client.ApiClient(configuration), request_timeout)

    async def connection(self) -> Connection:
        """The server, CA and credentials this client uses (a bearer token is read afresh)."""
        configuration = self._api.configuration
        header = configuration.get_api_key_with_prefix("BearerToken")
        if inspect.isawaitable(header):
            header = await header
        parts = str(header).split(" ", 1) if header else []
        scheme, token = (
            (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0] if parts else None)
        )
        return Connection(
            server=str(configuration.host),
            ca_path=configuration.ssl_ca_cert,
            insecure=not configuration.verify_ssl,
            scheme=scheme,
            token=token,
            certificate_path=configuration.cert_file,
            private_key_path=configuration.key_file,
        )

    async def __aenter__(self) -> KubeApi:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._api.close()

    async def get(self, path: str, query: Mapping[str, str] | None = None) -> JsonObject:
        return await self.request("GET", path, query=query)

    async def create(self, path: str, body: JsonObject) -> JsonObject:
        return await self.request("POST", path, body=body)

    async def replace(self, path: str, body: JsonObject) -> JsonObject:
        return await self.request("PUT", path, body=body)

    async def patch(self, path: str, body: Any, kind: PatchKind = "merge") -> JsonObject:
        return await self.request("PATCH", path, body=body, content_type=_PATCH_TYPES[kind])

    async def delete(self, path: str, body: JsonObject | None = None) -> JsonObject:
        return await self.request("DELETE", path, body=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> JsonObject:
        """Send one request and return the decoded answer; errors are mapped (module docstring)."""
        response = await self._send(method, path, query, body, content_type, self._timeout)
        try:
            raw = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise KubeUnavailableError(method, path, None, str(exc) or "read failed", None) from exc
        finally:
            response.release()
        decoded: JsonObject = json.loads(raw) if raw else {}
        return decoded

    async def watch(
        self,
        path: str,
        *,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
        query: Mapping[str, str] | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Stream events of a collection until the server ends the watch (after
        ``timeout_seconds``; watches can go silent, so they are always bounded). A ``410 Gone``
        (an expired resource version) raises ``KubeRejectedError`` with reason ``Expired`` or
        ``Gone``: the caller lists again."""
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
            **(query or {}),
        }
        if resource_version:
            params["resourceVersion"] = resource_version
        response = await self._send("GET", path, params, None, "application/json", None)
        try:
            while True:
                try:
                    line = await asyncio.wait_for(
                        response.content.readline(), timeout=timeout_seconds + 30
                    )
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise KubeUnavailableError(
                        "WATCH", path, None, str(exc) or "the watch stream broke", None
                    ) from exc
                if not line:
                    return
                event = json.loads(line)
                kind, payload = event.get("type", ""), event.get("object", {})
                if kind == "ERROR":
                    _raise_for_status("WATCH", path, payload.get("code", 500), payload, None)
                yield WatchEvent(kind, payload)
        finally:
            response.release()

    async def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Any,
        content_type: str,
        request_timeout: float | None,
    ) -> Any:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            response = await self._api.call_api(
                path,
                method,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=request_timeout,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise KubeUnavailableError(
                method, path, None, str(exc) or type(exc).__name__, None
            ) from exc
        if response.status >= 300:
            try:
                raw = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                raw = b""
            finally:
                response.release()
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                payload = {"message": raw.decode("utf-8", errors="replace")}
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            _raise_for_status(method, path, response.status, payload, retry_after)
        return response


def _raise_for_status(
    method: str, path: str, status: int, payload: Any, retry_after: float | None
) -> None:
    payload = payload if isinstance(payload, dict) else {}
    reason = str(payload.get("reason") or "Unknown")
    message = str(payload.get("message") or reason)
    # AlreadyExists is a 409 too, but it is an answer, not a race: it would repeat.
    if status in _TEMPORARY_STATUSES and reason != "AlreadyExists":
        raise KubeUnavailableError(method, path, status, message, retry_after)
    raise KubeRejectedError(method, path, status, reason, message)
