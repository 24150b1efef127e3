"""A frame of lead attributes -> a numeric model matrix, and the target column -> 0/1.

Column kinds are inferred from the training rows (imported attributes arrive as text): two-valued yes/no-like
columns are booleans, columns whose filled cells almost all parse as numbers are numeric, ISO-like dates become
their age, hour and weekday, the rest are categorical with rare levels grouped into ``(other)``. Numeric columns
with gaps get a ``is missing`` indicator and the training median; categorical gaps are the level ``(missing)``.
Columns that are empty, constant or look like identifiers are dropped, and the reason kept in ``dropped_``.

Every step from a cell to its features (and to its words in :mod:`pulso.ml.leads.reasons`) looks at that cell
alone, so a column is encoded once per distinct value and the result spread to the rows (:func:`distinct_cells`):
a million leads have a few thousand distinct values per column.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from pulso.errors import InvalidInputError

POSITIVE = {"1", "yes", "y", "true", "t", "sim", "s", "converted", "convertido", "won", "ganho", "customer"}
NEGATIVE = {"0", "no", "n", "false", "f", "não", "nao", "not converted", "não convertido", "lost", "perdido"}
BOOLEAN_TRUE = {"1", "yes", "y", "true", "t", "sim", "s"}
BOOLEAN_VALUES = BOOLEAN_TRUE | {"0", "no", "n", "false", "f", "não", "nao"}
OTHER, MISSING = "(other)", "(missing)"
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def cell_texts(values: pd.Series) -> pd.Series:
    """Cells as stripped text (``1.0`` -> ``1``), blanks as missing, on the same index."""
    return values.map(_cell_text, na_action="ignore").replace("", np.nan)


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# object columns whose equal values (as a hash table sees them: 1 == 1.0) always read the same; True == 1 does not
SAFE_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"}


@dataclass(frozen=True)
class Cells:
    """A column's distinct values (rows of the column, so of its dtype; a gap is one of them) and per row the
    position of its value among them."""

    codes: np.ndarray
    values: pd.Series


@dataclass(frozen=True)
class Encoded:
    """One column's features: their names, their values (features, distinct values) and per row the position of
    its value (None: the values are per row)."""

    features: list[str]
    values: np.ndarray
    codes: np.ndarray | None


def distinct_cells(values: pd.Series) -> Cells | None:
    """The column as :class:`Cells`, or None when values that compare equal might read differently (an object
    column mixing ``True`` and ``1``) or there is nothing to gain (dates)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in SAFE_KINDS:
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = np.where(codes < 0, len(uniques), codes)  # the gaps (None, NaN) share the last code
    first = np.full(len(uniques) + 1, -1, dtype=np.intp)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row holding each value
    if first[-1] < 0:
        first = first[:-1]
    return Cells(codes, values.iloc[first].reset_index(drop=True))


def map_target(values: pd.Series, column: str) -> pd.Series:
    """0/1 per row (missing where the cell is blank: an open lead). Raises when the coding is unclear."""
    text = cell_texts(values).str.lower().str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)  # "1.0" is 1
    seen = sorted(str(v) for v in text.dropna().unique())
    expected = "two values such as yes/no, 1/0, true/false or converted/not converted"
    if len(seen) != 2:
        raise InvalidInputError(
            f"--target {column}: expected {expected}; the column has {len(seen)} distinct value(s): "
            + ", ".join(repr(v) for v in seen[:10])
            + (", ..." if len(seen) > 10 else "")
        )
    positive = [v for v in seen if v in POSITIVE]
    negative = [v for v in seen if v in NEGATIVE]
    if len(positive) == 1 and positive[0] not in negative and len(negative) <= 1:
        one = positive[0]
    elif len(negative) == 1 and len(positive) == 0:
        one = next(v for v in seen if v != negative[0])
    else:
        raise InvalidInputError(
            f"--target {column}: cannot tell which of {seen[0]!r} and {seen[1]!r} means converted; "
            f"recode the column as {expected}"
        )
    return text.map(lambda v: float(v == one), na_action="ignore").astype(float)


@dataclass
class ColumnPlan:
    """How one source column becomes model features."""

    name: str
    kind: str  # numeric | boolean | categorical | date
    levels: list[str] = field(default_factory=list)  # categorical: the kept levels
    median: float = 0.0  # numeric: training median, fills gaps
    has_missing: bool = False
    reference: pd.Timestamp | None = None  # date: ages are counted back from the latest training date
    features: list[str] = field(default_factory=list)


class FeatureBuilder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Infers each column's kind on ``fit`` and turns frames into float matrices with named columns."""

    def __init__(
        self,
        min_level_share: float = 0.01,
        min_level_rows: int = 10,
        max_levels: int = 30,
        identifier_share: float = 0.5,
        parse_share: float = 0.98,
    ) -> None:
        self.min_level_share = min_level_share
        self.min_level_rows = min_level_rows
        self.max_levels = max_levels
        self.identifier_share = identifier_share
        self.parse_share = parse_share

    def fit(self, frame: pd.DataFrame, y: Any = None) -> FeatureBuilder:
        self.columns_: list[ColumnPlan] = []
        self.dropped_: dict[str, str] = {}
        for name in frame.columns:
            plan = self._plan(str(name), frame[name])
            if isinstance(plan, str):
                self.dropped_[str(name)] = plan
            else:
                self.columns_.append(plan)
        self.feature_names_ = [f for plan in self.columns_ for f in plan.features]
        self.source_of_ = {f: plan.name for plan in self.columns_ for f in plan.features}
        if not self.feature_names_:
            raise InvalidInputError("features: no usable column left (all excluded, empty, constant or identifiers)")
        return self

    def _plan(self, name: str, values: pd.Series) -> ColumnPlan | str:
        text = cell_texts(values).dropna()
        filled = len(text)
        if filled == 0:
            return "empty"
        distinct = text.nunique()
        has_missing = filled < len(values)
        if distinct == 1 and not has_missing:
            return "constant"
        if distinct <= 2 and set(text.str.lower().unique()) <= BOOLEAN_VALUES:
            plan = ColumnPlan(name, "boolean", has_missing=has_missing, features=[name])
        elif (numbers := pd.to_numeric(text, errors="coerce")).notna().mean() >= self.parse_share:
            whole = numbers.dropna()
            if distinct == filled > 50 and bool((whole == whole.round()).all()):
                return f"looks like an identifier (distinct whole numbers in all {filled:,} rows)"
            plan = ColumnPlan(name, "numeric", median=float(numbers.median()), has_missing=has_missing)
            plan.features = [name]
        elif text.map(lambda v: bool(DATE_LIKE.match(v))).mean() >= self.parse_share:
            stamps = _dates(values)
            plan = ColumnPlan(name, "date", has_missing=has_missing, reference=stamps.max())
            plan.features = [f"{name}: days before latest", f"{name}: hour", f"{name}: weekday"]
        else:
            if distinct > 50 and distinct > self.identifier_share * filled:
                return f"looks like an identifier ({distinct:,} distinct values in {filled:,} rows)"
            counts = text.value_counts()
            floor = max(self.min_level_rows, self.min_level_share * len(values))
            levels = [str(v) for v in counts[counts >= floor].index[: self.max_levels]]
            plan = ColumnPlan(name, "categorical", levels=levels, has_missing=has_missing)
            extra = ([OTHER] if len(levels) < distinct else []) + ([MISSING] if has_missing else [])
            plan.features = [f"{name} = {level}" for level in [*levels, *extra]]
            return plan
        if has_missing:
            plan.features.append(f"{name} is missing")
        return plan

    def transform(self, frame: pd.DataFrame, cells: dict[str, Cells | None] | None = None) -> pd.DataFrame:
        """The model matrix of ``frame``; ``cells`` (from :meth:`cells`) saves finding the distinct values again."""
        out = np.empty((len(frame), len(self.feature_names_)), order="F")  # one contiguous block per feature
        position = {name: i for i, name in enumerate(self.feature_names_)}
        for column in self.encode(frame, cells):
            for feature, values in zip(column.features, column.values, strict=True):
                if column.codes is None:
                    out[:, position[feature]] = values
                else:
                    np.take(values, column.codes, out=out[:, position[feature]], mode="clip")
        return pd.DataFrame(out, index=frame.index, columns=self.feature_names_, copy=False)

    def encode(self, frame: pd.DataFrame, cells: dict[str, Cells | None] | None = None) -> list[Encoded]:
        """Each column's features, worked out once per distinct value where the column has :class:`Cells`."""
        check_is_fitted(self, "columns_")
        missing = [plan.name for plan in self.columns_ if plan.name not in frame.columns]
        if missing:
            raise InvalidInputError(f"features: the frame lacks column(s) {', '.join(missing)}")
        cells = cells if cells is not None else self.cells(frame)
        out = []
        for plan in self.columns_:
            found = cells.get(plan.name)
            encoded = self._encode(plan, frame[plan.name] if found is None else found.values)
            values = np.array([np.asarray(v, dtype=float) for v in encoded.values()]).reshape(len(encoded), -1)
            out.append(Encoded(list(encoded), values, None if found is None else found.codes))
        return out

    def cells(self, frame: pd.DataFrame) -> dict[str, Cells | None]:
        """The distinct values of each column the features use (None: encoded cell by cell)."""
        check_is_fitted(self, "columns_")
        usable = [p.name for p in self.columns_ if p.kind != "date" and p.name in frame.columns]

        def of(name: str) -> Cells | None:
            column: pd.Series = frame[name]
            return distinct_cells(column)

        with ThreadPoolExecutor(2) as pool:  # Arrow's hashing lets go of the GIL
            found = dict(zip(usable, pool.map(of, usable), strict=True))
        return {plan.name: found.get(plan.name) for plan in self.columns_}

    def _encode(self, plan: ColumnPlan, values: pd.Series) -> dict[str, np.ndarray]:
        text = cell_texts(values)
        absent = text.isna().to_numpy()
        encoded: dict[str, np.ndarray] = {}
        if plan.kind == "boolean":
            encoded[plan.name] = np.where(absent, 0.0, text.str.lower().isin(BOOLEAN_TRUE).to_numpy(dtype=float))
        elif plan.kind == "numeric":
            numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
            absent = np.isnan(numbers)
            encoded[plan.name] = np.where(absent, plan.median, numbers)
        elif plan.kind == "date":
            stamps = _dates(values)
            absent = stamps.isna().to_numpy()
            reference = plan.reference if plan.reference is not None else stamps.max()
            days = ((reference - stamps).dt.total_seconds() / 86400).to_numpy(dtype=float)
            encoded[plan.features[0]] = np.nan_to_num(days, nan=0.0)
            encoded[plan.features[1]] = stamps.dt.hour.fillna(0).to_numpy(dtype=float)
            encoded[plan.features[2]] = stamps.dt.day_of_week.fillna(0).to_numpy(dtype=float)
        else:
            level = self.level_of(plan, text)
            for feature in plan.features:
                encoded[feature] = (level == feature.split(" = ", 1)[1]).to_numpy(dtype=float)
            return encoded
        if plan.has_missing:
            encoded[f"{plan.name} is missing"] = absent.astype(float)
        return encoded

    @staticmethod
    def level_of(plan: ColumnPlan, text: pd.Series) -> pd.Series:
        """The categorical level each cell (as :func:`cell_texts`) falls into."""
        kept = set(plan.levels)
        return text.map(lambda v: v if v in kept else OTHER, na_action="ignore").fillna(MISSING)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", np.nan), errors="coerce", utc=True, format="ISO8601")
