"""The numpy side of the percentiles, on small arrays worked out by hand (no database).

Linear interpolation: the percentile p of n sorted values v1..vn sits at position p (n - 1) (0-based); with
low = floor of it and f its fraction, the answer is v[low] + f (v[low + 1] - v[low]).
"""

from __future__ import annotations

import numpy as np
import pytest

from pulso.metrics.percentiles import NO_KEY, TimingStats, order_stats, summarize
from pulso.metrics.timing_columns import parse_replies


def figures(stats: TimingStats) -> tuple[object, ...]:
    return (stats.key, stats.count, stats.mean, stats.median, stats.p90, stats.p95, stats.p99)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_no_values() -> None:
    assert order_stats(ints()) == [TimingStats(None, 0, None, None, None, None, None)]
    assert order_stats(ints(), ints()) == []  # no group has values
    total, rows = summarize(ints(), ints())
    assert (total.count, total.median, rows) == (0, None, [])


def test_one_value_is_every_percentile() -> None:
    assert figures(order_stats(ints(42))[0]) == (None, 1, 42.0, 42.0, 42.0, 42.0, 42.0)


def test_ties_and_interpolation() -> None:
    # sorted 5, 5, 5, 10 (n = 4): median at 1.5 -> 5; p90 at 2.7 -> 5 + 0.7 x 5 = 8.5; p95 at 2.85 -> 9.25;
    # p99 at 2.97 -> 9.85; mean 25 / 4
    stats = order_stats(ints(10, 5, 5, 5))[0]
    assert (stats.count, stats.mean, stats.median) == (4, 6.25, 5.0)
    assert (stats.p90, stats.p95, stats.p99) == pytest.approx((8.5, 9.25, 9.85))
    only = order_stats(ints(10, 5, 5, 5), only=("median",))[0]
    assert (only.median, only.p90, only.p99) == (5.0, None, None)


def test_groups_sorted_numerically_and_the_null_key_only_in_its_own_row_and_the_total() -> None:
    # key 10: 60, 240 -> median 150; key 9: 420, 900 -> 660; NULL: 30. All: 30, 60, 240, 420, 900 -> median 240
    values, keys = ints(60, 420, 30, 900, 240), ints(10, 9, NO_KEY, 9, 10)
    total, rows = summarize(values, keys)
    assert (total.key, total.count, total.mean, total.median) == (None, 5, 330.0, 240.0)
    assert [(s.key, s.count, s.mean, s.median) for s in rows] == [
        ("9", 2, 660.0, 660.0),
        ("10", 2, 150.0, 150.0),
        (None, 1, 30.0, 30.0),
    ]
    assert order_stats(values, keys) == rows


def test_sparse_integer_keys_and_text_keys() -> None:
    sparse = order_stats(ints(1, 2, 3), ints(7, 10**12, 7))  # too far apart for 16-bit codes
    assert [(s.key, s.count, s.median) for s in sparse] == [("7", 2, 2.0), (str(10**12), 1, 2.0)]
    text_keys = np.array(["b", "a", None, "a"], dtype=object)
    rows = order_stats(np.array([1.0, 2.0, 3.0, 4.0]), text_keys)
    assert [(s.key, s.count, s.mean) for s in rows] == [("a", 2, 3.0), ("b", 1, 1.0), (None, 1, 3.0)]


def test_agrees_with_numpy_quantile() -> None:
    values = ints(7, 3, 19, 3, 120, 44, 8, 8, 61, 2, 15)
    stats = order_stats(values)[0]
    expected = np.quantile(values, [0.5, 0.9, 0.95, 0.99])  # numpy's default method is linear
    assert [stats.median, stats.p90, stats.p95, stats.p99] == pytest.approx(expected.tolist(), rel=1e-12)


def test_bad_input_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown p42"):
        order_stats(ints(1), only=("p42",))
    with pytest.raises(ValueError, match="2 keys for 3 values"):
        order_stats(ints(1, 2, 3), ints(1, 2))


def test_reply_pairs_with_null_business_seconds() -> None:
    # three conversations (keys 7, 7, 9): [[120, 120], [600, 300]], [[30, 30]], [[1000, null]]
    text = "[[120, 120], [600, 300]];[[30,30]];[[1000,null]]"
    wall = parse_replies(text, {"g": ints(7, 7, 9)}, business_hours=False)
    assert (wall.values.tolist(), wall.keys["g"].tolist()) == ([120, 600, 30, 1000], [7, 7, 7, 9])
    business = parse_replies(text, {"g": ints(7, 7, 9)}, business_hours=True)
    assert (business.values.tolist(), business.keys["g"].tolist()) == ([120, 300, 30], [7, 7, 7])
    assert parse_replies(None, {"g": ints()}, business_hours=False).values.tolist() == []
    with pytest.raises(ValueError, match=r"\[seconds, business seconds\] pairs"):
        parse_replies("[[1, 2], [3]]", {}, business_hours=False)
    with pytest.raises(ValueError, match="do not line up"):
        parse_replies("[[1, 2]];[[3, 4]]", {"g": ints(7)}, business_hours=False)
