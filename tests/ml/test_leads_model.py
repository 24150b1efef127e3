"""LeadScorer and the generic training path on simulated leads with a known signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulso.errors import InvalidInputError
from pulso.ml.leads.model import LeadScorer
from pulso.ml.leads.reasons import reasons
from pulso.ml.leads.train import train_leads
from tests.ml.synthetic import leads


@pytest.fixture(scope="module")
def trained() -> tuple[pd.DataFrame, object]:
    frame = leads()
    return frame, train_leads(frame, "Converted", time_column="First Visit")


def test_the_model_finds_the_signal(trained: tuple[pd.DataFrame, object]) -> None:
    _frame, result = trained
    metrics = result.metrics  # type: ignore[attr-defined]
    # the true model's AUC on this sample is about 0.80; noise columns must not make it worse by much
    assert metrics["roc_auc"] > 0.76
    assert metrics["split"] == "time"
    assert metrics["train_rows"] == 3200 and metrics["rows"] == 800
    assert set(metrics["candidate_roc_auc"]) == {"logistic", "lightgbm"}
    # the true model is linear in the log-odds: the regression should be at least as good, within noise
    assert metrics["candidate_roc_auc"]["logistic"] > metrics["candidate_roc_auc"]["lightgbm"] - 0.02
    assert metrics["brier"] < 0.2
    assert metrics["top_decile_lift"] > 2


def test_reasons_name_the_true_feature_first(trained: tuple[pd.DataFrame, object]) -> None:
    frame, result = trained
    model = result.model  # type: ignore[attr-defined]
    rows = frame
    minutes = pd.to_numeric(rows["Minutes on Site"])
    extreme = rows[(minutes > 45) & (rows["Lead Source"] == "Google") & (rows["Do Not Email"] == "No")]
    explained = reasons(model.scorer.contributions(model.builder.transform(extreme)), extreme, model.builder)
    firsts = [r["raises"][0]["column"] for r in explained]
    assert len(firsts) >= 20
    assert firsts.count("Minutes on Site") / len(firsts) >= 0.9
    assert explained[0]["raises"][0]["text"].startswith("Minutes on Site is high: ")
    assert explained[0]["raises"][0]["text"].endswith(" (raises)")


def test_reasons_say_the_category_and_its_direction(trained: tuple[pd.DataFrame, object]) -> None:
    frame, result = trained
    model = result.model  # type: ignore[attr-defined]
    one = frame[(frame["Lead Source"] == "Reference") & (frame["Do Not Email"] == "Yes")].head(1)
    found = reasons(model.scorer.contributions(model.builder.transform(one)), one, model.builder, top=10)[0]
    texts = [r["text"] for r in found["raises"] + found["lowers"]]
    assert "Lead Source = Reference (raises)" in texts
    assert "Do Not Email = Yes (lowers)" in texts


def test_contributions_add_up_to_the_raw_log_odds(trained: tuple[pd.DataFrame, object]) -> None:
    frame, result = trained
    model = result.model  # type: ignore[attr-defined]
    X = model.builder.transform(frame.head(50))
    for chosen in ("logistic", "lightgbm"):
        scorer = LeadScorer(candidates=(chosen,), n_calibration_folds=2)
        y = (frame["Converted"] == "yes").to_numpy(dtype=int)
        full = model.builder.transform(frame)
        scorer.fit(full.iloc[:3000], y[:3000], full.iloc[3000:], y[3000:])
        raw = scorer.raw_score(X)
        total = scorer.contributions(X).sum(axis=1).to_numpy()
        assert total == pytest.approx(np.log(raw / (1 - raw)), abs=1e-6)


def test_calibration_never_sees_the_validation_labels() -> None:
    frame = leads(n=1500, seed=1)
    y = (frame.pop("Converted") == "yes").to_numpy(dtype=int)
    X = frame[["Minutes on Site", "Noise"]].astype(float)
    shuffled = np.random.default_rng(0).permutation(y[1200:])
    one = LeadScorer(candidates=("logistic",)).fit(X[:1200], y[:1200], X[1200:], y[1200:])
    two = LeadScorer(candidates=("logistic",)).fit(X[:1200], y[:1200], X[1200:], shuffled)
    assert one.predict_proba(X[1200:]) == pytest.approx(two.predict_proba(X[1200:]))
    assert one.calibration_ == "isotonic"


def test_calibrated_probabilities_match_the_observed_rates(trained: tuple[pd.DataFrame, object]) -> None:
    _frame, result = trained
    metrics = result.metrics  # type: ignore[attr-defined]
    # over the validation leads, the mean probability is near the observed rate (800 leads: se about 1.6 points)
    predicted = sum(b["rows"] * b["mean_predicted"] for b in metrics["calibration"]) / metrics["rows"]
    assert abs(predicted - metrics["base_rate"]) < 0.05


def test_bad_matrices_are_refused() -> None:
    X = pd.DataFrame({"a": [1.0, np.nan, 2.0, 3.0]})
    with pytest.raises(InvalidInputError, match="X: non-finite values in a"):
        LeadScorer().fit(X, np.array([0, 1, 0, 1]), X, np.array([0, 1, 0, 1]))
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InvalidInputError, match="y: expected 0/1 values with both classes"):
        LeadScorer().fit(X, np.array([0, 0, 0, 0]), X, np.array([0, 1, 0, 1]))
