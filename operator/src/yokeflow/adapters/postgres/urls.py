"""PostgreSQL URLs: showing one without its password, and pointing one at another database."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["database_name", "mask_url", "with_database"]


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` — safe to print and log."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def database_name(url: str) -> str:
    """The database a URL names (``postgres`` when it names none, like libpq's default user db)."""
    name = urlsplit(url).path.lstrip("/")
    return name or (urlsplit(url).username or "postgres")


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
