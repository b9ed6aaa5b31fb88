"""Scopes and bearer tokens of the MCP task manager (pure: no server, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yokeflow_mcp import AccessDeniedError, BearerScope, IssuedTokens, Scope, SignedTokens
from yokeflow_mcp.access import bearer_token
from yokeflow_mcp.tools_plan import slug

SECRET = b"unit-test-secret-0123456789"


@given(
    project=st.integers(min_value=1, max_value=2**31 - 1),
    task=st.none() | st.integers(min_value=1, max_value=2**31 - 1),
    worker=st.text(max_size=40),
)
def test_a_signed_token_carries_its_scope(project: int, task: int | None, worker: str) -> None:
    scope = Scope(project, task, worker)
    tokens = SignedTokens(SECRET)
    assert tokens.verify(tokens.issue(scope), now=0) == scope


def test_a_changed_token_is_refused() -> None:
    tokens = SignedTokens(SECRET)
    token = tokens.issue(Scope(1, 2))
    prefix, payload, signature = token.split(".")
    other_payload = tokens.issue(Scope(99)).split(".")[1]
    for bad in (
        f"{prefix}.{other_payload}.{signature}",  # another project's payload, this signature
        f"{prefix}.{payload}.{signature[:-2]}xx",
        f"yf2.{payload}.{signature}",
        f"{prefix}.{payload}",
        "",
        SignedTokens(b"another-secret-01234").issue(Scope(1, 2)),
    ):
        with pytest.raises(AccessDeniedError, match="invalid token"):
            tokens.verify(bad, now=0)


def test_tokens_expire() -> None:
    tokens = SignedTokens(SECRET)
    token = tokens.issue(Scope(1), expires_at=100.0)
    assert tokens.verify(token, now=99.9) == Scope(1)
    with pytest.raises(AccessDeniedError, match="expired"):
        tokens.verify(token, now=100.0)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SignedTokens(b"short")


def test_issued_tokens_are_random_and_revocable() -> None:
    tokens = IssuedTokens()
    first = tokens.issue(Scope(1, 5))
    second = tokens.issue(Scope(1, 5))
    assert first != second
    assert len(first) >= 40
    assert tokens.verify(first, now=0) == Scope(1, 5)
    tokens.revoke(first)
    with pytest.raises(AccessDeniedError):
        tokens.verify(first, now=0)
    expiring = tokens.issue(Scope(2), expires_at=10)
    with pytest.raises(AccessDeniedError, match="expired"):
        tokens.verify(expiring, now=10)


class _Request:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


def test_the_scope_of_a_request_comes_from_its_bearer_token() -> None:
    tokens = SignedTokens(SECRET)
    access = BearerScope(tokens, clock=lambda: 0.0)
    token = tokens.issue(Scope(3, None, "job-7"))
    assert access.scope(_Request({"authorization": f"Bearer {token}"})) == Scope(3, None, "job-7")
    assert access.scope(_Request({"authorization": f"bearer  {token} "})) == Scope(3, None, "job-7")
    for headers in ({}, {"authorization": f"Basic {token}"}, {"authorization": "Bearer"}):
        with pytest.raises(AccessDeniedError):
            access.scope(_Request(headers))
    with pytest.raises(AccessDeniedError, match="no bearer token"):
        access.scope(None)
    assert bearer_token(None) is None


def test_a_task_scope_changes_only_its_task_and_never_plans() -> None:
    project = Scope(1)
    project.check_task_change(5, "a")
    project.check_planning("create_task")
    own = Scope(1, 5)
    own.check_task_change(5, "a")
    with pytest.raises(AccessDeniedError, match="only change its own task; task b"):
        own.check_task_change(6, "b")
    with pytest.raises(AccessDeniedError, match="create_task needs a project-wide session"):
        own.check_planning("create_task")


def test_keys_derived_from_titles_are_unique() -> None:
    assert slug("Create the todo schema!", set()) == "create-the-todo-schema"
    assert slug("API: login", {"api-login"}) == "api-login-2"
    assert slug("API: login", {"api-login", "api-login-2"}) == "api-login-3"
    assert slug("¿¡", set()) == "task"
    assert len(slug("x" * 200, set())) <= 48
