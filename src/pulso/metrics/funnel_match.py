"""The funnel's matching, on numpy arrays: attempts, the steps each reached, exclusions, each person's best attempt.

Input: the candidate rows of one tenant (:class:`Rows`), sorted by person, time and tie-break, each carrying a bit
per step and per exclusion it matches. Every "the person's next step-k row after this one" is a binary search in
the sorted positions of the step-k rows, done for all attempts at once, so a funnel over a million events costs a
few array passes. No database here: :mod:`pulso.metrics.funnel_sql` reads the rows, :mod:`pulso.metrics.funnels`
turns the matched attempts into counts and times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING = -1  # a step not reached: its position and time


@dataclass(frozen=True)
class Rows:
    """Candidate rows in (person, ts, tiebreak) order. ``bits``: bit k - 1 for step k, bit n_steps + j - 1 for
    exclusion j."""

    person: np.ndarray  # int64 person codes
    ts: np.ndarray  # int64 milliseconds since the epoch
    bits: np.ndarray  # int64

    @classmethod
    def sorted(
        cls, person: np.ndarray, ts: np.ndarray, tiebreak: np.ndarray, bits: np.ndarray
    ) -> tuple[Rows, np.ndarray]:
        """The rows in (person, ts, tiebreak) order, and the permutation that sorted them."""
        order = np.lexsort((tiebreak, ts, person))
        return cls(person[order], ts[order], bits[order]), order


@dataclass(frozen=True)
class Rules:
    n_steps: int
    order: str  # sequential, strict or any
    window_ms: int
    step_windows_ms: tuple[int | None, ...]  # empty, or one per step after the first
    exclusions: tuple[tuple[int, int], ...]  # (from, to), 1-based steps, in the order of the exclusion bits
    start_ms: int  # step 1 in [start_ms, end_ms)
    end_ms: int


@dataclass(frozen=True)
class Attempts:
    """One row per attempt (a step-1 row in the range)."""

    person: np.ndarray
    first: np.ndarray  # the step-1 row's position in Rows
    reached: np.ndarray  # 1..n_steps
    at: np.ndarray  # (attempts, n_steps): when each step was reached, ms (MISSING past ``reached``)


def match(rows: Rows, rules: Rules) -> Attempts:
    n = rules.n_steps
    first = np.flatnonzero((rows.bits & 1).astype(bool) & (rows.ts >= rules.start_ms) & (rows.ts < rules.end_ms))
    positions = np.full((len(first), n), MISSING, dtype=np.int64)
    positions[:, 0] = first
    t1 = rows.ts[first]
    for k in range(2, n + 1):
        since = first if rules.order == "any" else positions[:, k - 2]
        found = _next_strict(rows, since, k) if rules.order == "strict" else _next(rows, since, _bit(k))
        ok = (found != MISSING) & (since != MISSING)
        at = rows.ts[np.where(ok, found, 0)]
        ok &= at <= t1 + rules.window_ms
        step_window = rules.step_windows_ms[k - 2] if rules.step_windows_ms else None
        if step_window is not None:
            ok &= at <= rows.ts[np.where(since != MISSING, since, 0)] + step_window
        positions[:, k - 1] = np.where(ok, found, MISSING)
    done = positions != MISSING
    reached = np.cumprod(done, axis=1).sum(axis=1)  # steps done in a row from step 1
    times = np.where(done, rows.ts[np.where(done, positions, 0)], MISSING)
    if rules.order == "any":  # a step is reached when it and every step before it are done
        times = np.maximum.accumulate(times, axis=1)
    times[np.arange(n)[None, :] >= reached[:, None]] = MISSING
    reached = _exclude(rows, rules, positions, times, reached)
    return Attempts(rows.person[first], first, reached, times)


def best_per_person(attempts: Attempts) -> np.ndarray:
    """Indices of each person's best attempt: the furthest step, then the earliest entry, then the first row."""
    order = np.lexsort((attempts.first, attempts.at[:, 0], -attempts.reached, attempts.person))
    person = attempts.person[order]
    leading = np.ones(len(order), dtype=bool)
    leading[1:] = person[1:] != person[:-1]
    return np.asarray(order[leading])


def _bit(k: int) -> int:
    return 1 << (k - 1)


def _next(rows: Rows, since: np.ndarray, bit: int) -> np.ndarray:
    """Per entry of ``since`` (a row position, or MISSING): the position of the same person's next row with ``bit``
    after it, or MISSING."""
    candidates = np.flatnonzero((rows.bits & bit).astype(bool))
    if not len(candidates) or not len(since):
        return np.full(len(since), MISSING, dtype=np.int64)
    index = np.searchsorted(candidates, since, side="right")
    found = candidates[np.minimum(index, len(candidates) - 1)]
    same = (index < len(candidates)) & (since != MISSING) & (rows.person[found] == rows.person[np.maximum(since, 0)])
    return np.where(same, found, MISSING)


def _next_strict(rows: Rows, since: np.ndarray, k: int) -> np.ndarray:
    """The very next row of the same person, if it is a step-k row."""
    following = since + 1
    inside = (since != MISSING) & (following < len(rows.ts))
    following = np.where(inside, following, 0)
    ok = inside & (rows.person[following] == rows.person[np.maximum(since, 0)]) & (rows.bits[following] & _bit(k) != 0)
    return np.where(ok, following, MISSING)


def _exclude(rows: Rows, rules: Rules, positions: np.ndarray, times: np.ndarray, reached: np.ndarray) -> np.ndarray:
    """``reached`` cut back to an exclusion's ``from`` step where the person's next exclusion row after the
    step-``from`` row comes strictly before the furthest step reached among from+1..to; the largest ``from`` first."""
    reached = reached.copy()
    numbered = sorted(enumerate(rules.exclusions, 1), key=lambda item: item[1][0], reverse=True)
    for j, (start, stop) in numbered:
        found = _next(rows, positions[:, start - 1], _bit(rules.n_steps + j))
        excluded_at = np.where(found != MISSING, rows.ts[np.maximum(found, 0)], np.iinfo(np.int64).max)
        furthest = times[np.arange(len(reached)), np.minimum(reached, stop) - 1]
        cut = (reached > start) & (excluded_at < furthest)
        reached[cut] = start
        times[cut[:, None] & (np.arange(rules.n_steps)[None, :] >= start)] = MISSING
    return reached
