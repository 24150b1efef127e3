"""The generic training path: exclusions, leakage warnings, column errors."""

from __future__ import annotations

import numpy as np
import pytest

from pulso.errors import InvalidInputError
from pulso.ml.leads.train import train_leads
from tests.ml.synthetic import leads


def test_a_copy_of_the_outcome_is_warned_about_not_dropped() -> None:
    frame = leads(n=2000)
    frame["Sales Notes"] = np.where(frame["Converted"] == "yes", "closed", "lost")
    result = train_leads(frame, "Converted")
    assert any(w.startswith("'Sales Notes' alone gives validation AUC 1.000") for w in result.warnings)
    assert "Sales Notes = closed" in result.model.builder.feature_names_  # printed, not silently dropped
    assert result.metrics["leakage_warnings"] == result.warnings


def test_a_column_filled_only_for_one_class_is_warned_about() -> None:
    frame = leads(n=2000)
    rng = np.random.default_rng(1)
    converted = frame["Converted"] == "yes"
    # noisy enough not to separate the classes alone, but blank for every non-converted lead
    frame["Contract Value"] = [
        f"{v:.0f}" if c and rng.random() < 0.5 else None
        for v, c in zip(rng.uniform(100, 900, len(frame)), converted, strict=True)
    ]
    result = train_leads(frame, "Converted")
    assert "'Contract Value' is '(missing)' for every non-converted training lead" in " ".join(result.warnings)


def test_excluded_columns_are_not_features() -> None:
    frame = leads(n=1000)
    frame["Sales Notes"] = frame["Converted"]
    result = train_leads(frame, "Converted", exclude=["Sales Notes", "Noise"])
    sources = {plan.name for plan in result.model.builder.columns_}
    assert sources == {"Minutes on Site", "Lead Source", "Do Not Email", "Pages", "First Visit"}
    assert result.warnings == []
    assert result.metrics["split"] == "random"
    assert "random split (stratified, seed 0), not a time split: no time column" in result.metrics["split_note"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": "Won"}, "--target: no column 'Won'; columns are Minutes on Site, Lead Source"),
        ({"target": "Converted", "exclude": ["Tags"]}, "--exclude: no column 'Tags'; columns are"),
        ({"target": "Converted", "time_column": "When"}, "--time-column: no column 'When'"),
        ({"target": "Lead Source"}, "--target Lead Source: expected two values"),
    ],
)
def test_bad_column_names_are_refused_with_the_columns(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        train_leads(leads(n=200), **options)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_the_data_hash_follows_the_data() -> None:
    frame = leads(n=600)
    first = train_leads(frame, "Converted", exclude=["First Visit"]).data_hash
    assert train_leads(frame, "Converted", exclude=["First Visit"]).data_hash == first
    frame.loc[0, "Noise"] = "9.999"
    assert train_leads(frame, "Converted", exclude=["First Visit"]).data_hash != first
