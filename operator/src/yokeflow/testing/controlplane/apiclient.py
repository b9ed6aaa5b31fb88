"""A minimal HTTPS client for the test API server, on the standard library only.

Just enough to bring a control plane up (probe ``/readyz``, create the fake nodes, wait for the
default service account): the tests themselves use ``kubectl``. Not a general Kubernetes client.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any

from yokeflow.testing.controlplane.pki import KeyPair

__all__ = ["ApiClient", "ApiResponse", "probe_http"]


@dataclass(frozen=True)
class ApiResponse:
    """Status code and body (parsed JSON when it is JSON, else the text) of one request."""

    status: int
    body: Any


class ApiClient:
    """Talks to one API server on 127.0.0.1 as the holder of one client certificate."""

    def __init__(self, port: int, ca_cert: str, client: KeyPair, timeout: float = 5.0) -> None:
        self._port = port
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_cert)
        self._context.load_cert_chain(str(client.cert), str(client.key))

    def request(self, method: str, path: str, body: object | None = None) -> ApiResponse:
        """Send one request; connection errors propagate as ``OSError``."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self._port, timeout=self._timeout, context=self._context
        )
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw
        return ApiResponse(response.status, parsed)


def probe_http(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` (http or https, certificate not verified) answers 200 OK."""
    scheme, _, rest = url.partition("://")
    hostport, _, path = rest.partition("/")
    host, _, port_text = hostport.partition(":")
    port = int(port_text)
    connection: http.client.HTTPConnection
    if scheme == "https":
        # Health endpoints of the controller manager, scheduler and kwok serve self-signed
        # certificates made at their start; only liveness is asked here, not identity.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/" + path)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
