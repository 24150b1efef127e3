"""The funnel matching on hand-built arrays (no database): steps A=bit 1, B=bit 2, C=bit 4, exclusion X=bit 8."""

from __future__ import annotations

import numpy as np

from pulso.metrics.funnel_match import MISSING, Rows, Rules, best_per_person, match

A, B, C, X = 1, 2, 4, 8


def rows(*events: tuple[int, int, int]) -> Rows:
    """(person, ts, bits) in any order; the tie-break is the position given."""
    person, ts, bits = (np.array(column, dtype=np.int64) for column in zip(*events, strict=True))
    return Rows.sorted(person, ts, np.arange(len(events)), bits)[0]


def rules(**options: object) -> Rules:
    defaults: dict[str, object] = {
        "n_steps": 3,
        "order": "sequential",
        "window_ms": 100,
        "step_windows_ms": (),
        "exclusions": (),
        "start_ms": 0,
        "end_ms": 1000,
    }
    return Rules(**{**defaults, **options})  # type: ignore[arg-type]


def test_sequential_takes_the_earliest_next_step_inside_the_window() -> None:
    # person 1: A 10, C 15 (before B: not a step yet), B 20, C 30 -> converts, reached at 10, 20, 30
    # person 2: A 10, B 20, C 111 (past 10 + 100) -> stops at B; the window's end is included: C at 110 would count
    found = match(rows((1, 10, A), (1, 15, C), (1, 20, B), (1, 30, C), (2, 10, A), (2, 20, B), (2, 111, C)), rules())
    assert found.reached.tolist() == [3, 2]
    assert found.at.tolist() == [[10, 20, 30], [10, 20, MISSING]]
    edge = match(rows((2, 10, A), (2, 20, B), (2, 110, C)), rules())
    assert edge.reached.tolist() == [3]


def test_one_event_matching_two_steps_serves_one_of_them() -> None:
    # a row with bits A|B at 10 is step 1; step 2 must be a later row
    found = match(rows((1, 10, A | B), (1, 20, A | B)), rules(n_steps=2))
    assert found.reached.tolist() == [2, 1]  # two attempts: 10 -> 20, and 20 alone


def test_ties_on_the_clock_follow_the_tiebreak() -> None:
    # B and A at the same ms: B was given first, so it is not after A
    assert match(rows((1, 10, B), (1, 10, A)), rules(n_steps=2)).reached.tolist() == [1]
    assert match(rows((1, 10, A), (1, 10, B)), rules(n_steps=2)).reached.tolist() == [2]


def test_strict_needs_the_very_next_row_of_the_same_person() -> None:
    found = match(
        rows((1, 10, A), (1, 12, 0), (1, 20, B), (2, 10, A), (2, 20, B), (3, 10, A), (4, 11, B)),
        rules(n_steps=2, order="strict"),
    )
    assert found.reached.tolist() == [1, 2, 1]  # person 3's next row belongs to person 4


def test_any_order_reaches_a_step_with_the_last_of_those_before_it() -> None:
    found = match(rows((1, 10, A), (1, 20, C), (1, 40, B)), rules(order="any"))
    assert found.reached.tolist() == [3]
    assert found.at.tolist() == [[10, 40, 40]]
    missing_b = match(rows((1, 10, A), (1, 20, C)), rules(order="any"))
    assert missing_b.reached.tolist() == [1] and missing_b.at.tolist() == [[10, MISSING, MISSING]]


def test_step_window_counts_from_the_previous_step() -> None:
    events = rows((1, 10, A), (1, 20, B), (1, 60, C))
    assert match(events, rules(step_windows_ms=(None, 40))).reached.tolist() == [3]
    assert match(events, rules(step_windows_ms=(None, 39))).reached.tolist() == [2]


def test_exclusion_cuts_back_to_its_from_step() -> None:
    events = rows((1, 10, A), (1, 20, B), (1, 25, X), (1, 30, C))
    assert match(events, rules(exclusions=((2, 3),))).reached.tolist() == [2]
    assert match(events, rules(exclusions=((1, 2),))).reached.tolist() == [3]  # X after B: no effect
    cut = match(events, rules(exclusions=((1, 3),)))
    assert cut.reached.tolist() == [1] and cut.at.tolist() == [[10, MISSING, MISSING]]


def test_only_step_one_rows_in_the_range_start_attempts() -> None:
    found = match(rows((1, 5, A), (1, 10, A), (1, 20, B)), rules(n_steps=2, start_ms=6, end_ms=10))
    assert len(found.reached) == 0
    found = match(rows((1, 5, A), (1, 10, A), (1, 20, B)), rules(n_steps=2, start_ms=6, end_ms=11))
    assert found.first.tolist() == [1] and found.reached.tolist() == [2]


def test_best_attempt_per_person_is_the_furthest_then_the_earliest() -> None:
    # person 1: attempt at 10 reaches A only (B at 200 is too late), attempt at 150 reaches B; person 2: two equal
    found = match(rows((1, 10, A), (1, 150, A), (1, 200, B), (2, 10, A), (2, 20, A)), rules(n_steps=2))
    best = best_per_person(found)
    assert sorted((int(found.person[i]), int(found.at[i, 0])) for i in best) == [(1, 150), (2, 10)]


def test_nothing_to_match() -> None:
    empty = Rows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    found = match(empty, rules())
    assert found.reached.shape == (0,) and found.at.shape == (0, 3)
    assert best_per_person(found).tolist() == []
