"""Target mapping and the frame -> matrix step of lead scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulso.errors import InvalidInputError
from pulso.ml.leads.features import FeatureBuilder, map_target


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes", "no", "Yes", " NO "], [1, 0, 1, 0]),
        (["1", "0", "1.0", 0], [1, 0, 1, 0]),
        ([True, False, "true", "False"], [1, 0, 1, 0]),
        (["converted", "not converted", "converted", "not converted"], [1, 0, 1, 0]),
        (["won", "open", "open", "won"], [1, 0, 0, 1]),  # one known positive: the other value is the negative
        (["lost", "signed", "lost", "signed"], [0, 1, 0, 1]),  # one known negative: the other is the positive
    ],
)
def test_target_values_map_to_one_and_zero(values: list[object], expected: list[int]) -> None:
    assert map_target(pd.Series(values, dtype=object), "y").tolist() == expected


def test_blank_targets_stay_missing_as_open_leads() -> None:
    mapped = map_target(pd.Series(["yes", None, "", "no"], dtype=object), "y")
    assert mapped.isna().tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            ["a", "b", "c"],
            "--target stage: expected two values such as yes/no, 1/0, true/false or converted/not "
            "converted; the column has 3 distinct value(s): 'a', 'b', 'c'",
        ),
        (["yes", "yes"], "the column has 1 distinct value(s): 'yes'"),
        (["red", "blue"], "--target stage: cannot tell which of 'blue' and 'red' means converted"),
        (["yes", "true"], "cannot tell which of 'true' and 'yes' means converted"),
    ],
)
def test_ambiguous_targets_are_refused_with_the_values(values: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        map_target(pd.Series(values, dtype=object), "stage")
    assert message in str(caught.value)


def test_column_kinds_rare_levels_gaps_and_dates() -> None:
    frame = pd.DataFrame(
        {
            "source": ["Google"] * 12 + ["Reference"] * 12 + ["Fair"] * 2 + [None] * 4,
            "opt_out": ["Yes", "No"] * 15,
            "visits": [str(i % 7) for i in range(29)] + [""],
            "seen": ["2026-03-02T10:30:00"] * 29 + ["2026-03-09T08:00:00"],
            "id": [f"lead-{i}" for i in range(30)],
            "constant": ["x"] * 30,
            "empty": [None] * 30,
        }
    )
    frame = pd.concat([frame] * 3, ignore_index=True)
    frame["id"] = [f"lead-{i}" for i in range(90)]
    builder = FeatureBuilder().fit(frame)
    assert {p.name: p.kind for p in builder.columns_} == {
        "source": "categorical",
        "opt_out": "boolean",
        "visits": "numeric",
        "seen": "date",
    }
    assert builder.dropped_ == {
        "id": "looks like an identifier (90 distinct values in 90 rows)",
        "constant": "constant",
        "empty": "empty",
    }
    # Fair has 6 rows of 90, under the floor of 10: grouped into (other)
    assert builder.feature_names_ == [
        "source = Google",
        "source = Reference",
        "source = (other)",
        "source = (missing)",
        "opt_out",
        "visits",
        "visits is missing",
        "seen: days before latest",
        "seen: hour",
        "seen: weekday",
    ]
    X = builder.transform(frame.iloc[[0, 24, 26, 29]])
    assert X["source = (other)"].tolist() == [0, 1, 0, 0]  # row 24 is Fair
    assert X["source = (missing)"].tolist() == [0, 0, 1, 1]
    assert X["opt_out"].tolist() == [1, 1, 1, 0]
    assert X["visits"].tolist() == [0, 3, 5, 3]  # the gap filled with the training median, 3
    assert X["visits is missing"].tolist() == [0, 0, 0, 1]
    # 2026-03-02 10:30 is 6 days 21.5 hours before 2026-03-09 08:00, a Monday
    assert X["seen: days before latest"].iloc[0] == pytest.approx(6 + 21.5 / 24)
    assert X["seen: hour"].iloc[0] == 10
    assert X["seen: weekday"].iloc[0] == 0


def test_unseen_levels_fall_into_other() -> None:
    builder = FeatureBuilder(min_level_rows=1).fit(pd.DataFrame({"c": ["a", "b", "a", "b"]}))
    X = builder.transform(pd.DataFrame({"c": ["zzz", "a"]}))
    assert X.columns.tolist() == ["c = a", "c = b"]
    assert np.asarray(X).tolist() == [[0, 0], [1, 0]]


def test_a_frame_without_usable_columns_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no usable column left"):
        FeatureBuilder().fit(pd.DataFrame({"constant": ["x"] * 5}))
