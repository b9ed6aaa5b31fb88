"""Kubeconfig files for the test control plane's clients.

A kubeconfig here is self-contained: the CA and the client certificate and key are embedded
(base64), so the file keeps working when copied. It is written as JSON, which is valid YAML and
which every Kubernetes client reads.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from yokeflow.testing.controlplane.pki import KeyPair

__all__ = ["CONTEXT_NAME", "write_kubeconfig"]

CONTEXT_NAME = "yokeflow-test"


def write_kubeconfig(path: Path, server: str, ca_cert: Path, client: KeyPair, user: str) -> Path:
    """Write a kubeconfig for ``user`` authenticating with ``client`` to ``server``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT_NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": _b64(ca_cert),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert),
                    "client-key-data": _b64(client.key),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT_NAME,
                "context": {"cluster": CONTEXT_NAME, "user": user, "namespace": "default"},
            }
        ],
        "current-context": CONTEXT_NAME,
        "preferences": {},
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
        handle.write("\n")
    return path


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")
