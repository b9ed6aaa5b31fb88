"""A token bucket with reservations: how long a call must wait to keep to a rate.

Pure: the caller passes the time in and keeps the returned bucket. ``reserve`` always grants the
call and says when it may go, so concurrent callers are spaced out instead of retrying in a
crowd; ``pause`` pushes every later call past a server's ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["TokenBucket", "pause", "reserve"]


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """``rate`` calls per second on average, up to ``burst`` at once after a quiet spell."""

    rate: float
    burst: float
    tokens: float
    updated_at: float
    paused_until: float = 0.0

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        return cls(rate=rate, burst=burst, tokens=burst, updated_at=now)


def reserve(bucket: TokenBucket, now: float) -> tuple[TokenBucket, float]:
    """Take one token; the new bucket and how many seconds from ``now`` the call must wait."""
    elapsed = max(0.0, now - bucket.updated_at)
    tokens = min(bucket.burst, bucket.tokens + elapsed * bucket.rate) - 1.0
    wait = 0.0 if tokens >= 0 else -tokens / bucket.rate
    wait = max(wait, bucket.paused_until - now)
    return replace(bucket, tokens=tokens, updated_at=max(now, bucket.updated_at)), wait


def pause(bucket: TokenBucket, now: float, seconds: float) -> TokenBucket:
    """No call goes before ``now + seconds`` (a server said so); the bucket starts empty then."""
    until = max(bucket.paused_until, now + max(0.0, seconds))
    return replace(bucket, paused_until=until, tokens=min(bucket.tokens, 0.0))
