"""Bearer tokens of the HTTP transport: each one names the scope it grants.

Two kinds, both :class:`TokenVerifier`:

* :class:`SignedTokens` — ``yf1.<payload>.<signature>``: the scope (project id, optional task
  id, worker name, expiry) as base64url JSON, signed with HMAC-SHA256 under a secret shared by
  whoever issues tokens (the operator, ``yokeflow mcp token``) and the server. Nothing is stored:
  a cluster Job gets a token for its run and task in its environment, and that token cannot be
  turned into another project's — changing the payload breaks the signature.
* :class:`IssuedTokens` — random secrets mapped to scopes in memory (an API server that hands
  out tokens itself and forgets them when it restarts).

Verification never says why a token was refused beyond "invalid" or "expired".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Protocol

from yokeflow_mcp.scope import AccessDeniedError, Scope

__all__ = ["IssuedTokens", "SignedTokens", "TokenVerifier"]

_PREFIX = "yf1"


class TokenVerifier(Protocol):
    """Turns a bearer token into the scope it grants, or raises :class:`AccessDeniedError`."""

    def verify(self, token: str, *, now: float) -> Scope: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedTokens:
    """Stateless tokens signed with a shared secret (at least 16 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._secret, f"{_PREFIX}.{payload}".encode("ascii"), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, scope: Scope, *, expires_at: float | None = None) -> str:
        """A token granting ``scope`` until ``expires_at`` (Unix seconds; None: no expiry)."""
        body = {"p": scope.project_id, "t": scope.task_id, "w": scope.worker, "exp": expires_at}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{_PREFIX}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, now: float) -> Scope:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise AccessDeniedError("invalid token")
        _, payload, signature = parts
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise AccessDeniedError("invalid token")
        try:
            body = json.loads(_unb64(payload))
            scope = Scope(
                project_id=int(body["p"]),
                task_id=None if body["t"] is None else int(body["t"]),
                worker=str(body["w"]),
            )
            expires = body["exp"]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise AccessDeniedError("invalid token") from exc
        if expires is not None and now >= float(expires):
            raise AccessDeniedError("expired token")
        return scope


class IssuedTokens:
    """Random tokens remembered in memory, each mapped to its scope."""

    def __init__(self) -> None:
        self._scopes: dict[str, tuple[Scope, float | None]] = {}

    def issue(self, scope: Scope, *, expires_at: float | None = None) -> str:
        token = secrets.token_urlsafe(32)
        self._scopes[token] = (scope, expires_at)
        return token

    def revoke(self, token: str) -> None:
        self._scopes.pop(token, None)

    def verify(self, token: str, *, now: float) -> Scope:
        found = self._scopes.get(token)
        if found is None:
            raise AccessDeniedError("invalid token")
        scope, expires = found
        if expires is not None and now >= expires:
            raise AccessDeniedError("expired token")
        return scope
