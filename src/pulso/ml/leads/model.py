"""LeadScorer: logistic regression and LightGBM compete on validation ROC AUC; the winner is calibrated.

Calibration never sees the validation rows, so the reported metrics stay honest: the chosen candidate is refitted
in ``n_calibration_folds`` stratified folds of the *training* rows, each fold's held-out predictions are
collected (out-of-fold scores), and the calibrator (isotonic regression, or Platt's sigmoid below
``isotonic_min_rows`` training rows) maps those raw scores to the observed outcomes. The served model is the
candidate fitted on all training rows followed by that calibrator. The validation rows serve one purpose:
choosing between the two candidates (a choice between two, so the optimism it adds to the validation AUC is small).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from pulso.errors import InvalidInputError
from pulso.ml.leads import treeshap
from pulso.ml.leads.features import Encoded

CANDIDATES = ("logistic", "lightgbm")
LIGHTGBM_DEFAULTS: dict[str, Any] = {
    # depth 6 and 200 trees: as accurate as unbounded depth and 300 trees on both benchmark files (validation AUC
    # within 0.001) while the exact TreeSHAP reasons, whose cost grows with depth squared, take 2.6x less time
    "n_estimators": 200,
    "learning_rate": 0.05,
    "max_depth": 6,
    "num_leaves": 31,
    "min_child_samples": 20,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "n_jobs": 1,  # two threads ran 8x slower on a 2-core machine (45k rows x 47 features)
    "verbose": -1,
}


def check_matrix(X: pd.DataFrame, y: np.ndarray | None = None) -> None:
    """Model input: a finite float frame (and a 0/1 target of the same length with both classes)."""
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise InvalidInputError("X: expected a DataFrame with at least one feature column")
    values = X.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        bad = [str(c) for c in X.columns[~np.isfinite(values).all(axis=0)]]
        raise InvalidInputError(f"X: non-finite values in {', '.join(bad[:5])}")
    if y is not None:
        if len(y) != len(X):
            raise InvalidInputError(f"y: {len(y)} values for {len(X)} rows")
        if not set(np.unique(y)) <= {0, 1} or len(np.unique(y)) < 2:
            raise InvalidInputError("y: expected 0/1 values with both classes present")


class LeadScorer(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated probability that a lead converts, with per-feature log-odds contributions."""

    def __init__(
        self,
        candidates: tuple[str, ...] = CANDIDATES,
        n_calibration_folds: int = 5,
        isotonic_min_rows: int = 1000,
        lightgbm_params: dict[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.candidates = candidates
        self.n_calibration_folds = n_calibration_folds
        self.isotonic_min_rows = isotonic_min_rows
        self.lightgbm_params = lightgbm_params
        self.random_state = random_state

    def _candidate(self, name: str) -> Any:
        if name == "logistic":
            regression = LogisticRegression(C=1.0, max_iter=2000, random_state=self.random_state)
            return Pipeline([("scale", StandardScaler()), ("regression", regression)])
        if name == "lightgbm":
            params = {**LIGHTGBM_DEFAULTS, **(self.lightgbm_params or {})}
            return lgb.LGBMClassifier(random_state=self.random_state, **params)
        raise InvalidInputError(f"candidates: {name!r} is not one of {', '.join(CANDIDATES)}")

    def fit(self, X: pd.DataFrame, y: np.ndarray, X_valid: pd.DataFrame, y_valid: np.ndarray) -> LeadScorer:
        """Fit every candidate on (X, y), keep the best on (X_valid, y_valid), calibrate out of fold on (X, y)."""
        self.__dict__.pop("_explainers", None)  # explainers of an earlier fit
        y, y_valid = np.asarray(y, dtype=int), np.asarray(y_valid, dtype=int)
        check_matrix(X, y)
        check_matrix(X_valid, y_valid)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        # LightGBM refuses some characters in feature names
        X_array, X_valid_array = _array(X, self.feature_names_in_), _array(X_valid, self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        self.candidate_auc_: dict[str, float] = {}
        fitted: dict[str, Any] = {}
        for name in self.candidates:
            model = self._candidate(name).fit(X_array, y)
            fitted[name] = model
            self.candidate_auc_[name] = float(roc_auc_score(y_valid, model.predict_proba(X_valid_array)[:, 1]))
        self.chosen_ = max(self.candidates, key=lambda name: self.candidate_auc_[name])
        self.estimator_ = fitted[self.chosen_]
        folds = StratifiedKFold(self.n_calibration_folds, shuffle=True, random_state=self.random_state)
        out_of_fold = cross_val_predict(clone(self.estimator_), X_array, y, cv=folds, method="predict_proba")[:, 1]
        self.calibration_ = "isotonic" if len(y) >= self.isotonic_min_rows else "sigmoid"
        if self.calibration_ == "isotonic":
            self.calibrator_: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.calibrator_.fit(out_of_fold, y)
        else:
            self.calibrator_ = LogisticRegression(C=1e6).fit(_logit(out_of_fold)[:, None], y)
        return self

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """The chosen candidate's uncalibrated probability."""
        check_is_fitted(self, "estimator_")
        X_array = _array(X, self.feature_names_in_)
        explainer = self._explainer(())
        if explainer is not None and len(X_array) >= CELL_ROWS:
            return _sigmoid(explainer.explain(X_array)[0])  # the same numbers as LightGBM's, found faster
        return np.asarray(self.estimator_.predict_proba(X_array)[:, 1], dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        calibrated = self._calibrated(self.raw_score(X))
        return np.column_stack([1 - calibrated, calibrated])

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        if len(raw) == 0:
            return np.zeros(0)
        if self.calibration_ == "isotonic":
            return np.asarray(self.calibrator_.predict(raw), dtype=float)
        return np.asarray(self.calibrator_.predict_proba(_logit(raw)[:, None])[:, 1], dtype=float)

    def predict_with_contributions(
        self, X: pd.DataFrame, groups: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated probability of each row and, per group of features, the sum of their contributions
        (as :meth:`contributions`), shape (rows, groups), from one pass over the trees."""
        check_is_fitted(self, "estimator_")
        X_array = _array(X, self.feature_names_in_)
        index = {name: i for i, name in enumerate(self.feature_names_in_)}
        members = tuple(tuple(index[name] for name in group) for group in groups)
        explainer = self._explainer(members)
        if explainer is not None:
            raw, pushes = explainer.explain(X_array)
            return self._calibrated(_sigmoid(raw)), pushes
        values = self._feature_contributions(X_array)
        pushes = np.column_stack([values[:, list(m)].sum(axis=1) for m in members]) if members else values[:, :0]
        return self._calibrated(self.raw_score(X)), pushes

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def predict_encoded_with_contributions(
        self, columns: Sequence[Encoded], rows: int, groups: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`predict_with_contributions` from the features of each column's distinct values
        (:meth:`pulso.ml.leads.features.FeatureBuilder.encode`), without the matrix of all rows; None when the
        model has no cell explainer (then build the matrix)."""
        check_is_fitted(self, "estimator_")
        index = {name: i for i, name in enumerate(self.feature_names_in_)}
        explainer = self._explainer(tuple(tuple(index[name] for name in group) for group in groups))
        if explainer is None:
            return None
        parts = [([index[f] for f in column.features], column.values, column.codes) for column in columns]
        raw, pushes = explainer.explain_codes(explainer.part_codes(parts, rows))
        return self._calibrated(_sigmoid(raw)), pushes

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's push on the raw log-odds of each row (TreeSHAP for LightGBM; coef x z for the regression).

        Columns are the features plus ``(baseline)``; a row sums to the raw (uncalibrated) log-odds.
        """
        check_is_fitted(self, "estimator_")
        X_array = _array(X, self.feature_names_in_)
        columns = [*self.feature_names_in_, "(baseline)"]
        explainer = self._explainer(tuple((i,) for i in range(len(self.feature_names_in_))))
        if explainer is not None:
            pushes = explainer.explain(X_array)[1]
            values = np.column_stack([pushes, np.full(len(X_array), explainer.expected_value)])
        else:
            values = self._feature_contributions(X_array)
        return pd.DataFrame(values, index=X.index, columns=columns)

    def _feature_contributions(self, X_array: np.ndarray) -> np.ndarray:
        if self.chosen_ == "lightgbm":
            return np.asarray(self.estimator_.booster_.predict(X_array, pred_contrib=True))
        scaler, regression = self.estimator_.named_steps["scale"], self.estimator_.named_steps["regression"]
        pushes = scaler.transform(X_array) * regression.coef_[0]
        return np.column_stack([pushes, np.full(len(X_array), regression.intercept_[0])])

    def _explainer(self, groups: tuple[tuple[int, ...], ...]) -> treeshap.CellExplainer | None:
        """The chosen LightGBM model's cell explainer for these feature groups (built once, not saved with the
        model); None for the regression or a model with splits the explainer does not reproduce."""
        if self.chosen_ != "lightgbm":
            return None
        cache: dict[Any, Any] = self.__dict__.setdefault("_explainers", {})
        if "model" not in cache:
            model = self.estimator_.booster_.dump_model()
            cache["model"] = model if treeshap.supported(model) else None
        if cache["model"] is None:
            return None
        if groups not in cache:
            cache[groups] = treeshap.CellExplainer(cache["model"], [list(g) for g in groups])
        explainer: treeshap.CellExplainer = cache[groups]
        return explainer

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        return {k: v for k, v in state.items() if k != "_explainers"}


# From this many rows, scores alone come faster from the cell explainer (its one-off set-up takes a second or two);
# the numbers are the same either way.
CELL_ROWS = 50_000


def _array(X: pd.DataFrame, names: np.ndarray) -> np.ndarray:
    if list(X.columns) != list(names):
        X = X[list(names)]
    return np.asarray(X.to_numpy(dtype=float))


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    """LightGBM's probability of a raw score, with the C library's exp as LightGBM calls it (numpy's own
    vectorised exp differs in the last bit for about one value in twenty)."""
    exp = np.fromiter(map(math.exp, (-raw).tolist()), dtype=float, count=len(raw))
    return np.asarray(1.0 / (1.0 + exp))


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(clipped) - np.log1p(-clipped), dtype=float)
