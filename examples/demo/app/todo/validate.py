"""Rules for todo titles."""

MAX_TITLE = 80


def validate_title(title: str) -> str:
    """The title, stripped; raises ValueError when it is empty, too long or spans lines."""
    cleaned = title.strip()
    if not cleaned:
        raise ValueError("a title cannot be empty")
    if len(cleaned) > MAX_TITLE:
        raise ValueError(f"a title has at most {MAX_TITLE} characters")
    if "\n" in cleaned or "\r" in cleaned:
        raise ValueError("a title is one line")
    return cleaned
