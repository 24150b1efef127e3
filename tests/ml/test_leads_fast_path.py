"""The fast scoring path gives what the straightforward one gives: features, reasons, scores and contributions.

The references are the implementations the fast path replaced (cell by cell, row by row) and LightGBM itself.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from pulso.ml.leads import treeshap
from pulso.ml.leads.features import FeatureBuilder
from pulso.ml.leads.model import LeadScorer, _sigmoid
from pulso.ml.leads.reasons import choose, column_contributions, explain, reasons
from pulso.ml.leads.train import TrainedLeadModel
from tests.ml.previous_scoring import reference_reasons, reference_transform
from tests.ml.synthetic import leads


def awkward(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Synthetic leads plus the cells that trip encoders: blanks, spaces, ``1.0``, ``True`` next to ``1``, junk
    in a numeric column, rare levels, an object column of Python numbers."""
    rng = np.random.default_rng(seed)
    frame = leads(n=n, seed=seed).drop(columns=["Converted"]).astype(object)
    mixed = np.array([True, 1, "1", 1.0, None, "", " x ", "x", False, 0, "yes", np.nan], dtype=object)
    frame["Mixed"] = mixed[rng.integers(0, len(mixed), n)]
    frame["Visits"] = [None if r < 0.1 else ("n/a" if r > 0.985 else float(int(r * 20))) for r in rng.random(n)]
    frame["Score"] = rng.integers(0, 5, n).astype(object)  # Python ints
    city = np.array(["Recife", " Recife", "Olinda", "", None, "Caruaru"], dtype=object)
    frame["City"] = city[rng.choice(len(city), n, p=[0.4, 0.1, 0.3, 0.05, 0.1, 0.05])]
    frame.loc[rng.random(n) < 0.02, "Lead Source"] = "Fair 2026"  # rare at scoring time too
    return frame


@pytest.fixture(scope="module")
def builder() -> FeatureBuilder:
    return FeatureBuilder().fit(awkward(seed=11))


def test_transform_matches_the_cell_by_cell_encoding(builder: FeatureBuilder) -> None:
    frame = awkward()
    fast = builder.transform(frame)
    assert fast.columns.tolist() == builder.feature_names_
    assert np.array_equal(fast.to_numpy(), reference_transform(builder, frame).to_numpy())
    kinds = {plan.name: plan.kind for plan in builder.columns_}
    assert kinds["Mixed"] == "categorical" and kinds["Visits"] == "numeric" and kinds["First Visit"] == "date"


def test_reasons_match_the_row_by_row_loop_with_ties_zeros_and_gaps(builder: FeatureBuilder) -> None:
    frame = awkward()
    rng = np.random.default_rng(3)
    values = rng.integers(-3, 4, (len(frame), len(builder.feature_names_))) / 2  # many exact ties and zeros
    values[rng.random(values.shape) < 0.3] = 0.0
    values[:20] = 0.0  # leads with no reason at all
    values[20:40, :2] = [0.7, -0.7]  # equal size, opposite effects
    contributions = pd.DataFrame(values, columns=builder.feature_names_)
    contributions["(baseline)"] = -1.0
    for top in (1, 3, 10):
        assert reasons(contributions, frame, builder, top) == reference_reasons(contributions, frame, builder, top)
    per_column = column_contributions(contributions, builder).to_numpy()
    for whole, chunked in zip(choose(per_column, 3), choose(per_column, 3, chunk=7), strict=True):
        assert np.array_equal(whole.columns, chunked.columns) and np.array_equal(whole.pushes, chunked.pushes)
    texts = " ".join(r["text"] for row in reasons(contributions, frame, builder, 10) for d in row.values() for r in d)
    for words in ("(rare) (", "is missing (", "is typical: ", "is high: ", "Mixed = true (", "Mixed = 1 (", "= x ("):
        assert words in texts


def test_reasons_of_a_model_match_the_row_by_row_loop(builder: FeatureBuilder) -> None:
    train, frame = awkward(seed=11), awkward()
    y = (np.random.default_rng(1).random(len(train)) < 0.3).astype(int)
    scorer = LeadScorer(candidates=("lightgbm",), n_calibration_folds=2, lightgbm_params={"n_estimators": 30})
    X = builder.transform(train)
    scorer.fit(X, y, X, y)
    contributions = scorer.contributions(builder.transform(frame))
    expected = reference_reasons(contributions, frame, builder)
    assert reasons(contributions, frame, builder) == expected
    # the one-pass path: the same probabilities and reasons
    model = TrainedLeadModel("Converted", [], builder, scorer, {}, [])
    probability, why = model.score_with_reasons(frame)
    assert np.array_equal(probability, scorer.predict_proba(builder.transform(frame))[:, 1])
    assert why.to_list() == expected
    assert [why.row(i) for i in range(len(frame))] == expected
    stored = why.stored()
    assert stored[0] == [{**r, "direction": d} for d in ("raises", "lowers") for r in expected[0][d]]
    nothing, none = model.score_with_reasons(frame.iloc[:0])
    assert len(nothing) == 0 and none.to_list() == [] and none.stored() == []


@pytest.fixture(scope="module")
def booster_and_rows() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(size=3000),
            rng.integers(0, 2, 3000),  # one-hot-like
            rng.integers(0, 2, 3000),
            np.round(rng.gamma(2.0, 10.0, 3000)),  # few distinct values: thresholds between them
            rng.normal(size=3000),  # never split on below if the trees ignore it
        ]
    ).astype(float)
    logit = X[:, 0] + 0.8 * X[:, 1] - 0.5 * X[:, 1] * X[:, 2] + 0.05 * (X[:, 3] - 20)
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"n_estimators": 40, "max_depth": 5, "num_leaves": 20, "verbose": -1, "n_jobs": 1}
    booster = lgb.LGBMClassifier(**params).fit(X, y).booster_
    # rows sitting exactly on thresholds (which go left) and just past them, next to ordinary rows
    model = booster.dump_model()
    on = [float(n["threshold"]) for t in model["tree_info"] for n in _nodes(t["tree_structure"])][:200]
    edge = np.tile(X[:1], (2 * len(on), 1))
    edge[: len(on), 0] = on
    edge[len(on) :, 0] = np.nextafter(np.array(on), np.inf)
    return booster, np.vstack([X[:600], edge])


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "split_feature" not in node:
        return []
    return [node, *_nodes(node["left_child"]), *_nodes(node["right_child"])]


@pytest.mark.parametrize("chunk_rows", [treeshap.CHUNK_ROWS, 64])  # 64: rows sorted, many chunks, threads
def test_cell_explainer_gives_lightgbm_contributions_and_the_same_raw_scores(
    booster_and_rows: tuple[lgb.Booster, np.ndarray], chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(treeshap, "CHUNK_ROWS", chunk_rows)
    booster, X = booster_and_rows
    groups = [[0], [1, 2], [3], [4]]
    model = booster.dump_model()
    assert treeshap.supported(model)
    explainer = treeshap.CellExplainer(model, groups)
    raw, pushes = explainer.explain(X, threads=2)
    expected = booster.predict(X, pred_contrib=True)
    assert np.array_equal(raw, booster.predict(X, raw_score=True))  # bit for bit
    assert explainer.expected_value == expected[0, -1]
    per_group = np.column_stack([expected[:, g].sum(axis=1) for g in groups])
    assert np.abs(pushes - per_group).max() < 1e-12
    assert np.array_equal(_sigmoid(raw), booster.predict(X))  # LightGBM's probabilities, bit for bit
    # a row's numbers do not depend on the rows it is scored with (visiting order, chunks, threads)
    small_raw, small_pushes = explainer.explain(X[::7], threads=1)
    assert np.array_equal(small_raw, raw[::7]) and np.array_equal(small_pushes, pushes[::7])


def test_trees_without_a_split_and_unsupported_models() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    stumps = lgb.LGBMClassifier(n_estimators=3, min_child_samples=500, verbose=-1).fit(X, y).booster_
    explainer = treeshap.CellExplainer(stumps.dump_model(), [[0], [1], [2]])
    raw, pushes = explainer.explain(X)
    assert np.array_equal(raw, stumps.predict(X, raw_score=True)) and not pushes.any()
    categorical = lgb.LGBMClassifier(n_estimators=3, verbose=-1, min_child_samples=5, min_data_per_group=5)
    codes = rng.integers(0, 4, 200)
    categorical.fit(pd.DataFrame({"c": pd.Categorical(codes), "x": X[:, 0]}), (codes == 2).astype(int))
    model = categorical.booster_.dump_model()
    assert "==" in {n["decision_type"] for n in _nodes(model["tree_info"][0]["tree_structure"])}
    assert not treeshap.supported(model)


def test_scorer_contributions_come_from_the_cell_explainer_and_are_not_pickled(builder: FeatureBuilder) -> None:
    import pickle

    train = awkward(seed=11)
    y = (np.random.default_rng(2).random(len(train)) < 0.4).astype(int)
    X = builder.transform(train)
    scorer = LeadScorer(candidates=("lightgbm",), n_calibration_folds=2, lightgbm_params={"n_estimators": 20})
    scorer.fit(X, y, X, y)
    values = scorer.contributions(X)
    lightgbm = scorer.estimator_.booster_.predict(X.to_numpy(), pred_contrib=True)
    assert np.abs(values.to_numpy() - lightgbm).max() < 1e-12
    assert "_explainers" in scorer.__dict__ and "_explainers" not in pickle.loads(pickle.dumps(scorer)).__dict__
    per_column = column_contributions(values, builder)
    again = explain(per_column.to_numpy(), list(per_column.columns), train, builder)
    assert len(again) == len(train) and again.to_list() == reasons(values, train, builder)


def test_paths_longer_than_the_tables_allow_fall_back_to_lightgbm() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(1000, 12)), columns=[f"x{i}" for i in range(12)])
    y = (X.sum(axis=1) + rng.normal(size=1000) > 0).astype(int).to_numpy()
    deep = {"max_depth": 14, "num_leaves": 200, "min_child_samples": 2, "n_estimators": 2, "colsample_bytree": 1.0}
    scorer = LeadScorer(candidates=("lightgbm",), n_calibration_folds=2, lightgbm_params=deep).fit(X, y, X, y)
    model = scorer.estimator_.booster_.dump_model()
    longest = max(
        len({f for f, *_ in path})
        for info in model["tree_info"]
        for *_, path in treeshap._leaves(info["tree_structure"])[0]
    )
    assert longest > treeshap.MAX_PATH_FEATURES and not treeshap.supported(model)
    assert scorer._explainer(((0,),)) is None
    expected = scorer.estimator_.booster_.predict(X.to_numpy(), pred_contrib=True)
    assert np.array_equal(scorer.contributions(X).to_numpy(), expected)
