"""The token bucket that paces Job creation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yokeflow.core.rate_limit import TokenBucket, pause, reserve


def test_a_full_bucket_lets_a_burst_through_then_spaces_calls() -> None:
    bucket = TokenBucket.full(rate=10, burst=3, now=0.0)
    waits = []
    for _ in range(6):
        bucket, wait = reserve(bucket, now=0.0)
        waits.append(round(wait, 6))
    assert waits == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3]


def test_tokens_come_back_with_time_up_to_the_burst() -> None:
    bucket = TokenBucket.full(rate=10, burst=2, now=0.0)
    bucket, _ = reserve(bucket, 0.0)
    bucket, _ = reserve(bucket, 0.0)
    bucket, wait = reserve(bucket, 100.0)
    assert wait == 0.0
    bucket, wait = reserve(bucket, 100.0)
    assert wait == 0.0
    bucket, wait = reserve(bucket, 100.0)
    assert wait == pytest.approx(0.1)


def test_a_pause_holds_every_call_until_it_ends() -> None:
    bucket = pause(TokenBucket.full(rate=100, burst=5, now=0.0), now=0.0, seconds=2.0)
    bucket, wait = reserve(bucket, 0.5)
    assert wait == pytest.approx(1.5)
    bucket, wait = reserve(bucket, 0.5)
    assert wait == pytest.approx(1.5)


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket.full(rate=0, burst=1, now=0.0)


@given(
    rate=st.floats(min_value=0.5, max_value=500),
    burst=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200),
)
def test_calls_never_go_faster_than_rate_plus_burst(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket.full(rate=rate, burst=burst, now=0.0)
    now = 0.0
    go_times = []
    for gap in gaps:
        now += gap
        bucket, wait = reserve(bucket, now)
        go_times.append(now + wait)
    go_times.sort()
    span = go_times[-1] - go_times[0]
    assert len(go_times) <= burst + span * rate + 1e-6
