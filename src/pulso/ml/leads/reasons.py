"""Reasons per lead: the source columns that pushed its score up or down most, in a salesperson's words.

The model's per-feature log-odds contributions are summed per source column (a categorical column's one-hot
features and a column's missing indicator count together), then described by the lead's own value:
``Lead Source = Reference (raises)``, ``Total Time Spent on Website is high: 1532 (raises)``,
``City is missing (lowers)``. Numbers are high or low against the training median.

The choice is made for all leads at once (:func:`choose`, in numpy), a column's words are worked out once per
distinct value (:func:`pulso.ml.leads.features.distinct_cells`), and a lead's reasons become dicts of text only
when read (:class:`Reasons`), so a million leads are explained in about a second.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pulso.ml.leads.features import OTHER, Cells, ColumnPlan, FeatureBuilder, cell_texts, distinct_cells

EFFECTS = ("raises", "lowers")


def column_words(name: str) -> str:
    """A stored attribute key as a person would write it: ``lead_source`` -> ``Lead source``."""
    if name == name.lower():
        words = name.replace("_", " ").strip()
        return words[:1].upper() + words[1:]
    return name


def describe(plan: ColumnPlan, builder: FeatureBuilder, values: pd.Series) -> list[str]:
    """How each lead's value of one column reads to a person."""
    name = column_words(plan.name)
    text = cell_texts(values)
    if plan.kind == "categorical":
        level = builder.level_of(plan, text)
        words = [f"{name} = {t}" if lv != OTHER else f"{name} = {t} (rare)" for t, lv in zip(text, level, strict=True)]
    elif plan.kind == "numeric":
        number = pd.to_numeric(text, errors="coerce")
        side = np.where(number > plan.median, "high", np.where(number < plan.median, "low", "typical"))
        words = [f"{name} is {s}: {t}" for s, t in zip(side, text, strict=True)]
        text = text.where(number.notna())
    else:
        words = [f"{name} = {t}" for t in text]
    return [f"{name} is missing" if pd.isna(t) else w for t, w in zip(text, words, strict=True)]


def column_groups(builder: FeatureBuilder, features: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """The source columns of ``features`` in order of their first feature, and each column's features."""
    groups: dict[str, list[str]] = {}
    for feature in features:
        if feature in builder.source_of_:
            groups.setdefault(builder.source_of_[feature], []).append(feature)
    return list(groups), list(groups.values())


def column_contributions(contributions: pd.DataFrame, builder: FeatureBuilder) -> pd.DataFrame:
    """Per source column, the sum of its features' contributions (columns in order of their first feature)."""
    features = [c for c in contributions.columns if c in builder.source_of_]
    sources = [builder.source_of_[f] for f in features]
    return contributions[features].T.groupby(sources, sort=False).sum().T


@dataclass
class Chosen:
    """Per row the positions of the chosen columns, strongest first (-1 past the last), and their pushes."""

    columns: np.ndarray  # (rows, top)
    pushes: np.ndarray  # (rows, top)


def choose(pushes: np.ndarray, top: int, chunk: int = 1 << 16) -> tuple[Chosen, Chosen]:
    """Per row: up to ``top`` columns with a positive push and up to ``top`` with a negative one, by size, a tie
    going to the earlier column; a push of zero is no reason (a NaN one lowers, after all the others). Rows go
    in chunks that fit the CPU cache."""
    pushes = np.asarray(pushes, dtype=float)
    raises = Chosen(np.full((len(pushes), top), -1, dtype=np.int32), np.zeros((len(pushes), top)))
    lowers = Chosen(np.full((len(pushes), top), -1, dtype=np.int32), np.zeros((len(pushes), top)))

    def one(start: int) -> None:
        part = pushes[start : start + chunk]
        up = part > 0
        score = np.abs(part)
        score[~up] = -np.inf
        _strongest(score, part, raises, start)
        np.abs(part, out=score)
        score[np.isnan(score)] = -1.0
        score[up | (part == 0)] = -np.inf
        _strongest(score, part, lowers, start)

    with ThreadPoolExecutor(2) as pool:  # numpy lets go of the GIL; the chunks write their own rows
        list(pool.map(one, range(0, len(pushes), chunk)))
    return raises, lowers


def _strongest(score: np.ndarray, pushes: np.ndarray, into: Chosen, start: int) -> None:
    """Into rows ``start``... of ``into``: the largest scores per row (-inf: not a candidate), the first of equal
    ones first."""
    rows, width = score.shape
    every = np.arange(rows)
    for slot in range(min(into.columns.shape[1], width)):
        at = score.argmax(axis=1)  # the first of the largest
        has = np.flatnonzero(score[every, at] > -np.inf)
        into.columns[start + has, slot] = at[has]
        into.pushes[start + has, slot] = pushes[has, at[has]]
        score[every, at] = -np.inf


@dataclass
class Reasons:
    """The reasons of many leads: what :func:`explain` chose, put into words when read."""

    columns: list[str]
    raises: Chosen
    lowers: Chosen
    frame: pd.DataFrame
    builder: FeatureBuilder
    cells: dict[str, Cells | None] = field(default_factory=dict)
    _words: dict[int, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict, repr=False)
    _texts: dict[tuple[int, str], np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.raises.columns)

    def words(self, column: int) -> tuple[np.ndarray, np.ndarray | None]:
        """A column's words per distinct value and each row's position among them (None: one word per row)."""
        if column not in self._words:
            name = self.columns[column]
            plan = next(p for p in self.builder.columns_ if p.name == name)
            found = self.cells[name] if name in self.cells else distinct_cells(self.frame[name])
            if plan.kind == "date":
                found = None
            values = self.frame[name] if found is None else found.values
            vocabulary = np.array(describe(plan, self.builder, values), dtype=object)
            self._words[column] = (vocabulary, None if found is None else found.codes)
        return self._words[column]

    def texts(self, effect: str, slot: int) -> np.ndarray:
        """The text of every row's reason in one slot (None where the row has none)."""
        chosen = self.raises if effect == "raises" else self.lowers
        columns = chosen.columns[:, slot]
        out = np.full(len(columns), None, dtype=object)
        suffix = f" ({effect})"
        narrow = columns.astype(np.int16) if len(self.columns) < 1 << 15 else columns
        order = np.argsort(narrow, kind="stable")  # rows grouped by column (a radix sort for int16)
        bounds = np.searchsorted(columns[order], np.arange(len(self.columns) + 1))
        for column in range(len(self.columns)):
            rows = order[bounds[column] : bounds[column + 1]]
            if not len(rows):
                continue
            vocabulary, codes = self.words(column)
            if codes is None:
                out[rows] = vocabulary[rows] + suffix
                continue
            if (column, effect) not in self._texts:  # one text per distinct value, shared by its rows
                self._texts[column, effect] = vocabulary + suffix
            out[rows] = self._texts[column, effect][codes[rows]]
        return out

    def row(self, i: int) -> dict[str, list[dict[str, Any]]]:
        """One lead's reasons, as :func:`reasons` gives them."""
        found: dict[str, list[dict[str, Any]]] = {}
        for effect, chosen in zip(EFFECTS, (self.raises, self.lowers), strict=True):
            found[effect] = []
            for column, push in zip(chosen.columns[i].tolist(), chosen.pushes[i].tolist(), strict=True):
                if column < 0:
                    break
                vocabulary, codes = self.words(column)
                word = vocabulary[i if codes is None else codes[i]]
                reason = {"column": self.columns[column], "text": f"{word} ({effect})", "log_odds": round(push, 4)}
                found[effect].append(reason)
        return found

    def __iter__(self) -> Iterator[dict[str, list[dict[str, Any]]]]:
        return iter(self.to_list())

    def to_list(self) -> list[dict[str, list[dict[str, Any]]]]:
        """Every lead's reasons, in order: ``{"raises": [...], "lowers": [...]}`` as :func:`reasons` gives them."""
        out: list[dict[str, list[dict[str, Any]]]] = [{"raises": [], "lowers": []} for _ in range(len(self))]
        for effect, present, columns, texts, pushes in self._slots():
            for found, here, column, text, push in zip(out, present, columns, texts, pushes, strict=True):
                if here:
                    found[effect].append({"column": column, "text": text, "log_odds": push})
        return out

    def stored(self) -> list[list[dict[str, Any]]]:
        """Every lead's reasons as ``lead_scores.reasons`` keeps them: one list, raising first, each reason with
        its ``direction``."""
        out: list[list[dict[str, Any]]] = [[] for _ in range(len(self))]
        for effect, present, columns, texts, pushes in self._slots():
            for found, here, column, text, push in zip(out, present, columns, texts, pushes, strict=True):
                if here:
                    found.append({"column": column, "text": text, "log_odds": push, "direction": effect})
        return out

    def _slots(self) -> Iterator[tuple[str, list[bool], list[str], list[str | None], list[float]]]:
        """Per effect and slot (strongest first): which rows have a reason there, its column, text and push."""
        names = np.array([*self.columns, ""], dtype=object)  # -1 (no reason) reads the last entry, unused
        for effect, chosen in zip(EFFECTS, (self.raises, self.lowers), strict=True):
            for slot in range(chosen.columns.shape[1]):
                columns = chosen.columns[:, slot]
                yield (
                    effect,
                    (columns >= 0).tolist(),
                    names[columns].tolist(),
                    self.texts(effect, slot).tolist(),
                    [round(push, 4) for push in chosen.pushes[:, slot].tolist()],
                )


def explain(
    pushes: np.ndarray,
    columns: Sequence[str],
    frame: pd.DataFrame,
    builder: FeatureBuilder,
    top: int = 3,
    cells: dict[str, Cells | None] | None = None,
) -> Reasons:
    """The reasons of every row of ``frame``, from its per-column pushes (rows, columns) on the log-odds."""
    raises, lowers = choose(np.asarray(pushes, dtype=float).reshape(len(frame), len(columns)), top)
    return Reasons(list(columns), raises, lowers, frame, builder, dict(cells or {}))


def reasons(
    contributions: pd.DataFrame, frame: pd.DataFrame, builder: FeatureBuilder, top: int = 3
) -> list[dict[str, list[dict[str, Any]]]]:
    """Per row: up to ``top`` raising and ``top`` lowering columns, strongest first, with their log-odds push."""
    per_column = column_contributions(contributions, builder)
    return explain(per_column.to_numpy(dtype=float), list(per_column.columns), frame, builder, top).to_list()
