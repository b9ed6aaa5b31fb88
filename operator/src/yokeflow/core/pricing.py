"""Model tiers, their model ids and prices, and what a session's tokens cost.

Prices are dollars per million tokens. Defaults (Anthropic's list prices): Haiku 4.5 $1 in /
$5 out, Sonnet 4.x $3 / $15, Opus 4.5 $5 / $25. Writing the prompt cache costs 1.25× the input
price, reading it 0.1×. :func:`cost_of` applies them::

    cost = (input × in + output × out + cache_write × in × 1.25 + cache_read × in × 0.1) / 1e6

which is the same figure the Claude Code CLI reports as ``total_cost_usd`` for these models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

__all__ = [
    "DEFAULT_MODEL_IDS",
    "DEFAULT_PRICES",
    "ModelTier",
    "PriceTable",
    "TierPrice",
    "TokenCounts",
    "Usage",
    "cost_of",
    "pinned_model",
]

MILLION = Decimal(1_000_000)


class ModelTier(StrEnum):
    """The three model tiers, cheapest first."""

    HAIKU = "haiku"
    SONNET = "sonnet"
    OPUS = "opus"

    @property
    def rank(self) -> int:
        """0 for Haiku, 1 for Sonnet, 2 for Opus."""
        return _ORDER.index(self)

    def up(self) -> ModelTier:
        """The next more capable tier (Opus stays Opus)."""
        return _ORDER[min(self.rank + 1, len(_ORDER) - 1)]

    def down(self) -> ModelTier:
        """The next cheaper tier (Haiku stays Haiku)."""
        return _ORDER[max(self.rank - 1, 0)]


_ORDER = (ModelTier.HAIKU, ModelTier.SONNET, ModelTier.OPUS)

_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}")


def pinned_model(value: str) -> str:
    """A model pinned on a task, checked: a tier name (``haiku``, ``sonnet``, ``opus``, any case;
    returned lower-case, resolved to the settings' model id at launch) or a Claude model id
    naming its family (``claude-opus-4-5``, ``us.anthropic.claude-haiku-4-5-v1:0``), returned as
    written. Raises ``ValueError`` saying what is accepted."""
    text = value.strip()
    if text.lower() in {t.value for t in _ORDER}:
        return text.lower()
    low = text.lower()
    if _MODEL_ID.fullmatch(text) and "claude" in low and any(t.value in low for t in _ORDER):
        return text
    raise ValueError(
        f"model {value!r} is neither a tier (haiku, sonnet, opus) nor a Claude model id"
        " naming its family (e.g. claude-sonnet-4-5)"
    )


@dataclass(frozen=True, slots=True)
class TierPrice:
    """Dollars per million tokens."""

    input: Decimal
    output: Decimal


DEFAULT_MODEL_IDS: Mapping[ModelTier, str] = {
    ModelTier.HAIKU: "claude-haiku-4-5",
    ModelTier.SONNET: "claude-sonnet-4-5",
    ModelTier.OPUS: "claude-opus-4-5",
}
DEFAULT_PRICES: Mapping[ModelTier, TierPrice] = {
    ModelTier.HAIKU: TierPrice(Decimal(1), Decimal(5)),
    ModelTier.SONNET: TierPrice(Decimal(3), Decimal(15)),
    ModelTier.OPUS: TierPrice(Decimal(5), Decimal(25)),
}


class Usage(Protocol):
    """Token counts by kind (``yokeflow.ports.agent.TokenUsage`` fits)."""

    @property
    def input(self) -> int: ...
    @property
    def output(self) -> int: ...
    @property
    def cache_read(self) -> int: ...
    @property
    def cache_creation(self) -> int: ...


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """A plain :class:`Usage`."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Model ids and prices per tier, and the prompt-cache multipliers."""

    model_ids: Mapping[ModelTier, str] = field(default_factory=lambda: dict(DEFAULT_MODEL_IDS))
    prices: Mapping[ModelTier, TierPrice] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    cache_write_multiplier: Decimal = Decimal("1.25")
    cache_read_multiplier: Decimal = Decimal("0.1")

    @classmethod
    def from_config(
        cls,
        model_ids: Mapping[str, str] | None = None,
        prices: Mapping[str, Mapping[str, float]] | None = None,
        cache_write_multiplier: float = 1.25,
        cache_read_multiplier: float = 0.1,
    ) -> PriceTable:
        """A table from settings values: tier name → model id, tier name → {input, output}."""
        ids = dict(DEFAULT_MODEL_IDS)
        ids.update({ModelTier(k): v for k, v in (model_ids or {}).items()})
        table = dict(DEFAULT_PRICES)
        for name, price in (prices or {}).items():
            tier = ModelTier(name)
            table[tier] = TierPrice(
                Decimal(str(price.get("input", table[tier].input))),
                Decimal(str(price.get("output", table[tier].output))),
            )
        return cls(
            model_ids=ids,
            prices=table,
            cache_write_multiplier=Decimal(str(cache_write_multiplier)),
            cache_read_multiplier=Decimal(str(cache_read_multiplier)),
        )

    def model_id(self, tier: ModelTier) -> str:
        """The model id configured for ``tier``."""
        return self.model_ids[tier]

    def tier_of(self, model: str) -> ModelTier:
        """The tier of a model id: a configured id exactly, else by family name; Sonnet if unknown."""
        for tier, model_id in self.model_ids.items():
            if model == model_id:
                return tier
        low = model.lower()
        for tier in _ORDER:
            if tier.value in low:
                return tier
        return ModelTier.SONNET

    def price_of(self, model: str) -> TierPrice:
        return self.prices[self.tier_of(model)]


def cost_of(usage: Usage, model: str, table: PriceTable | None = None) -> Decimal:
    """Dollars for ``usage`` on ``model`` (not rounded)."""
    table = table or PriceTable()
    price = table.price_of(model)
    dollars = (
        Decimal(usage.input) * price.input
        + Decimal(usage.output) * price.output
        + Decimal(usage.cache_creation) * price.input * table.cache_write_multiplier
        + Decimal(usage.cache_read) * price.input * table.cache_read_multiplier
    )
    return dollars / MILLION
