"""Names that are safe everywhere they are used: git branches, folders on any OS, Kubernetes objects.

Every function is deterministic and keeps distinct inputs distinct: whenever the readable part had
to change (characters replaced, a reserved word, truncation), a short hash of the original input
is appended. Lengths are counted in UTF-8 bytes, as file systems count them (a folder name is at
most 255 bytes: 85 CJK characters).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["dns1123_label", "dns1123_subdomain", "sanitize_branch_name", "sanitize_path_component"]

MAX_BRANCH_LENGTH = 200
"""In UTF-8 bytes, the prefix included."""
_WINDOWS_RESERVED = frozenset(
    [
        "CON",
        "PRN",
        "AUX",
        "NUL",
        "CONIN$",
        "CONOUT$",
        *(
            f"{port}{n}"
            for port in ("COM", "LPT")
            for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]
        ),
    ]
)
"""Device names Windows reserves in every folder, with any extension (``COM\u00b9`` too)."""
# Windows forbids : * ? " < > | and control characters; git forbids ~ ^ : ? * [ \ space and DEL.
_UNSAFE = re.compile(r'[\x00-\x20\x7f:*?"<>|~^\[\\]+')


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` of at most ``max_bytes`` UTF-8 bytes (never half a character)."""
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def _reserved(stem: str) -> bool:
    return stem.rstrip(" ").upper() in _WINDOWS_RESERVED


def sanitize_path_component(name: str, max_length: int = 100) -> str:
    """One folder or file name that git and Windows, macOS and Linux all accept.

    At most ``max_length`` UTF-8 bytes.
    """
    cleaned = _UNSAFE.sub("-", name.strip())
    cleaned = cleaned.replace("/", "-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)  # git forbids ".."
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = cleaned.strip(" .-")  # trailing dots/spaces (Windows), leading dots (git), dashes
    if cleaned.lower().endswith(".lock"):
        cleaned = cleaned[: -len(".lock")] + "-lock"
    cleaned = cleaned.replace("@{", "@-")
    changed = (
        cleaned != name
        or _reserved(cleaned.split(".", 1)[0])
        or not cleaned
        or _bytes(cleaned) > max_length
    )
    if not changed:
        return cleaned
    suffix = _digest(name)
    room = max_length - len(suffix) - 1
    head = _cut(cleaned, room - 1).rstrip(" .-")  # one byte kept for the '_' below
    stem, dot, rest = head.partition(".")
    if _reserved(stem):
        head = f"{stem}_{dot}{rest}"
    return f"{head}-{suffix}" if head else suffix


def sanitize_branch_name(name: str, prefix: str = "yokeflow/") -> str:
    """A git branch name for ``name`` under ``prefix``, valid on Windows and in ``git check-ref-format``.

    The result is at most :data:`MAX_BRANCH_LENGTH` UTF-8 bytes including the prefix.
    """
    if prefix and not re.fullmatch(r"([A-Za-z0-9._-]+/)*", prefix):
        raise ValueError(f"branch prefix {prefix!r} must be slash-terminated safe path parts")
    return prefix + sanitize_path_component(name, MAX_BRANCH_LENGTH - _bytes(prefix))


def dns1123_label(name: str, max_length: int = 63) -> str:
    """A Kubernetes DNS-1123 label (lowercase alphanumerics and '-', alphanumeric at both ends)."""
    if not 8 < max_length <= 63:
        raise ValueError("max_length must be between 9 and 63")
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-")
    if cleaned and cleaned == name and len(cleaned) <= max_length:
        return cleaned
    suffix = _digest(name, 6)
    head = cleaned[: max_length - len(suffix) - 1].strip("-")
    return f"{head}-{suffix}" if head else f"x{suffix}"


def dns1123_subdomain(name: str, max_length: int = 253) -> str:
    """A Kubernetes DNS-1123 subdomain (labels joined by '.', at most 253 characters)."""
    lowered = re.sub(r"[^a-z0-9.-]+", "-", name.lower())
    labels = [re.sub(r"-{2,}", "-", label).strip("-") for label in lowered.split(".")]
    cleaned = ".".join(label for label in labels if label)
    if cleaned and cleaned == name and len(cleaned) <= max_length:
        return cleaned
    suffix = _digest(name, 6)
    head = cleaned[: max_length - len(suffix) - 1].strip(".-")
    return f"{head}-{suffix}" if head else f"x{suffix}"
