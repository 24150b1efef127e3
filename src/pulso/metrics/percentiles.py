"""Count, mean and percentiles of measured values, per group and over all, ranked in numpy.

SQLite has no percentile aggregate, and ranking 100k values with window functions took it a second where numpy
takes milliseconds. So the database selects, joins and filters, and hands each column back as one aggregated
array (:mod:`pulso.metrics.columns`, :mod:`pulso.metrics.timing_columns`); numpy groups the values by key and,
within each group, puts in place only the ranks the percentiles need (``np.partition``, no full sort).
Percentiles interpolate linearly between the two ranks around ``p (n - 1)``: PostgreSQL's ``percentile_cont``,
numpy's default ``quantile`` method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from pulso.metrics.columns import fetch_columns
from pulso.store.session import PulsoSession

# each percentile as a fraction num/den, so rank arithmetic stays in integers
PERCENTILES = {"median": (1, 2), "p90": (9, 10), "p95": (19, 20), "p99": (99, 100)}
NO_KEY = -1  # NULL in an integer group-key column (ids, hours and weekdays are never negative)
DENSE_KEYS = 1 << 16  # integer keys spanning fewer values are grouped by a radix sort of 16-bit codes


@dataclass(frozen=True)
class TimingStats:
    """One metric over one group, in seconds (None when nothing was measured)."""

    key: str | None
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    p95: float | None
    p99: float | None


def order_stats(
    values: np.ndarray, keys: np.ndarray | None = None, *, only: Sequence[str] = tuple(PERCENTILES)
) -> list[TimingStats]:
    """Count, mean and the percentiles ``only`` of ``values`` (a numeric array, one measurement each).

    Without ``keys``: one row over all values (key None; count 0 and None figures when there are none). With
    ``keys`` (one per value: integers, :data:`NO_KEY` for NULL, or Python objects, None for NULL): one row per
    key that has values, keys ascending and the NULL key last, each key as text."""
    total, rows = summarize(values, keys, only=only)
    return rows if keys is not None else [total]


def summarize(
    values: np.ndarray, keys: np.ndarray | None, *, only: Sequence[str] = tuple(PERCENTILES)
) -> tuple[TimingStats, list[TimingStats]]:
    """The row over all values, and the rows per key as :func:`order_stats` gives them (empty without keys).

    No full sort: values are grouped by key (a radix sort of small integer keys), and within each group
    ``np.partition`` places just the ranks the percentiles need."""
    unknown = [name for name in only if name not in PERCENTILES]
    if unknown:
        raise ValueError(f"percentiles: unknown {', '.join(unknown)}; known: {', '.join(PERCENTILES)}")
    if keys is not None and len(keys) != len(values):
        raise ValueError(f"percentiles: {len(keys)} keys for {len(values)} values")
    total = _stats(None, values, only)
    if keys is None or len(values) == 0:
        return total, []
    labels, grouped, counts = _grouped(values, keys)
    ends = np.cumsum(counts)
    rows = [_stats(label, grouped[end - n : end], only) for label, n, end in zip(labels, counts, ends, strict=True)]
    order = sorted(range(len(labels)), key=lambda i: (labels[i] is None, labels[i] if labels[i] is not None else 0))
    return total, [rows[i] for i in order]


def _grouped(values: np.ndarray, keys: np.ndarray) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The distinct keys (None for NULL), the values grouped in that order, and each key's count."""
    if keys.dtype.kind in "iu":
        low = int(keys.min())
        if int(keys.max()) - low < DENSE_KEYS:  # codes fit in 16 bits: a stable argsort of them is a radix sort
            codes: np.ndarray = (keys - low).astype(np.uint16)
            counts = np.bincount(codes)
            present = np.flatnonzero(counts)
            labels = [_label(int(code) + low) for code in present]
            return labels, values[np.argsort(codes, kind="stable")], counts[present]
        distinct, codes = np.unique(keys, return_inverse=True)
        labels = [_label(int(key)) for key in distinct]
    else:
        index: dict[Any, int] = {}
        codes = np.fromiter((index.setdefault(key, len(index)) for key in keys), dtype=np.int64, count=len(keys))
        labels = list(index)
    return labels, values[np.argsort(codes, kind="stable")], np.bincount(codes, minlength=len(labels))


def _label(key: int) -> int | None:
    return None if key == NO_KEY else key


def _stats(key: Any, values: np.ndarray, only: Sequence[str]) -> TimingStats:
    """One group's row: only the ranks the percentiles need are put in place (``np.partition``)."""
    n = len(values)
    label = None if key is None else str(key)
    if n == 0:
        return TimingStats(label, 0, None, None, None, None, None)
    needed = set()
    for name in only:
        num, den = PERCENTILES[name]
        low = (n - 1) * num // den
        needed |= {low, min(low + 1, n - 1)}
    kth = sorted(needed)
    placed = np.partition(values, kth) if kth else values
    ranks = {rank + 1: float(placed[rank]) for rank in kth}
    figures = {name: interpolate(ranks, n, *PERCENTILES[name]) for name in only}
    return TimingStats(
        label,
        n,
        float(values.sum() / n),  # an integer sum is exact
        figures.get("median"),
        figures.get("p90"),
        figures.get("p95"),
        figures.get("p99"),
    )


def interpolate(ranks: dict[int, float], n: int, num: int, den: int) -> float:
    """The percentile num/den of n sorted values, from the values at ranks (1-based) floor(p(n-1))+1 and the next."""
    position = (n - 1) * num / den
    low = int((n - 1) * num // den)
    fraction = position - low
    value = ranks[low + 1]
    return value + fraction * (ranks[low + 2] - value) if fraction else value


def percentile_stats(
    session: PulsoSession, values: Any, *, grouped: bool, only: tuple[str, ...] = tuple(PERCENTILES)
) -> list[TimingStats]:
    """Count, mean and percentiles of ``values`` (a subquery with columns g, the group, and v, the value) per group
    or over all. The database evaluates the subquery and returns its columns as arrays; numpy ranks. Rows whose
    v is NULL measure nothing and are left out. Shared by every metric with percentiles."""
    query = select(values.c.g, values.c.v) if grouped else select(values.c.v)
    columns = fetch_columns(session, query, {"g": "object", "v": "float64"} if grouped else {"v": "float64"})
    measured = ~np.isnan(columns["v"])
    keys = columns["g"][measured] if grouped else None
    return order_stats(columns["v"][measured], keys, only=only)
