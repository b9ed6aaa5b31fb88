"""What a session killed with its run had spent, read back from its transcript.

The transcript is written (and flushed) a message at a time, so it holds the usage of every
model reply the session received before it died, even though the SDK's final result — which
carries the session's total cost — never came. The replies' usage, priced like the CLI prices
it, is what such a session is recorded to have cost.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from yokeflow.core.pricing import PriceTable, TokenCounts, cost_of
from yokeflow.ports.launcher import LostSpend

__all__ = ["spend_in_transcript"]

_MICRO = Decimal("0.000001")


def spend_in_transcript(path: Path, prices: PriceTable | None = None) -> LostSpend | None:
    """The spend recorded in the transcript at ``path`` (None: no transcript or no replies)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    model = ""
    by_message: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line may be cut short by the kill
        if entry.get("kind") == "request":  # a session starts (a reused file: count the last)
            model = str(entry.get("model") or "")
            by_message = {}
            continue
        message = entry.get("message") if entry.get("kind") == "message" else None
        if not isinstance(message, dict) or message.get("type") != "AssistantMessage":
            continue
        usage, key = message.get("usage"), message.get("message_id")
        if isinstance(usage, dict) and isinstance(key, str):
            by_message[key] = usage  # a reply streams in parts: its last usage counts
        model = str(message.get("model") or model)
    if not by_message:
        return None
    tokens = TokenCounts(
        input=sum(int(u.get("input_tokens") or 0) for u in by_message.values()),
        output=sum(int(u.get("output_tokens") or 0) for u in by_message.values()),
        cache_read=sum(int(u.get("cache_read_input_tokens") or 0) for u in by_message.values()),
        cache_creation=sum(
            int(u.get("cache_creation_input_tokens") or 0) for u in by_message.values()
        ),
    )
    cost = cost_of(tokens, model, prices).quantize(_MICRO) if model else Decimal(0)
    return LostSpend(
        model=model,
        cost_usd=cost,
        input_tokens=tokens.input,
        output_tokens=tokens.output,
        cache_read_tokens=tokens.cache_read,
        cache_creation_tokens=tokens.cache_creation,
    )
