"""Names valid for git, Windows folders and Kubernetes, and distinct for distinct inputs."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from yokeflow.core.naming import dns1123_label, dns1123_subdomain, sanitize_branch_name

_GIT_BAD = re.compile(r'(\.\.|@\{|//|[\x00-\x20\x7f~^:?*\[\\<>|"])')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def _valid_branch(name: str) -> bool:
    parts = name.split("/")
    return (
        len(name) <= 200
        and not _GIT_BAD.search(name)
        and all(p and not p.startswith(".") and not p.endswith((".", " ", ".lock")) for p in parts)
        and all(p.split(".")[0].upper() not in _RESERVED for p in parts)
    )


def test_windows_hostile_names_become_valid_and_distinct() -> None:
    titles = [
        "CON",
        "con",
        "a:b",
        "a*b",
        "trailing...",
        "trailing. ",
        "x" * 300,
        "x" * 301,
        "NUL.txt",
        "LPT9",
        "..",
        "",
        "a/b",
        "a..b",
        "ref.lock",
    ]
    names = [sanitize_branch_name(t) for t in titles]
    assert all(_valid_branch(n) for n in names), names
    assert len(set(names)) == len(names)


@given(st.text(max_size=400))
def test_any_text_gives_a_valid_branch(text: str) -> None:
    assert _valid_branch(sanitize_branch_name(text))


@given(st.text(max_size=60), st.text(max_size=60))
def test_distinct_inputs_stay_distinct(a: str, b: str) -> None:
    if a != b:
        assert sanitize_branch_name(a) != sanitize_branch_name(b)


def test_clean_names_are_kept_as_they_are() -> None:
    assert sanitize_branch_name("db-schema") == "yokeflow/db-schema"
    assert dns1123_label("db-schema") == "db-schema"


@given(st.text(max_size=200))
@example("0:.:0")  # labels that only lose their dashes after the split
def test_dns_names_are_valid(text: str) -> None:
    label = dns1123_label(text)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", label)
    assert len(label) <= 63
    sub = dns1123_subdomain(text)
    assert len(sub) <= 253
    assert all(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", part) for part in sub.split("."))
