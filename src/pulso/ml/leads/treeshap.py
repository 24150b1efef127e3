"""Exact TreeSHAP and raw scores of a LightGBM model on many rows, worked out per cell of each tree's partition.

A tree's output and its path-dependent TreeSHAP values depend on a row only through which side of each of the
tree's thresholds the row's values fall: the cell of the tree's partition the row lies in. A tree with 30 splits
puts a million leads into a few thousand occupied cells, so the values are computed once per occupied cell, with
the per-leaf subset tables of Fast TreeSHAP v2 (Yang 2021, arXiv:2109.09847), and every row looks its cell up. The
result is LightGBM's ``pred_contrib=True`` summed over groups of features (equal up to rounding, about 1e-15: the
same terms added in another order) and its raw score (the trees' outputs added in LightGBM's order, so equal bit
for bit); LightGBM itself needs about a millisecond per row for the contributions of 200 trees of depth 6.

Per row, the work is a handful of table lookups per tree: the row's code in each group of features (its values'
bins among all the model's thresholds), the tree's cell key from those codes, the cell's number among the occupied
ones, and the cell's row of values, added up over the trees in cache-sized chunks of rows visited in sorted order.
Per occupied cell: one byte of agreement bits per leaf (which of the leaf path's features the cell goes the
path's way on), and the leaf's table entry for that subset.

Supported: numerical ``<=`` splits on finite values, which is what
:class:`pulso.ml.leads.features.FeatureBuilder` produces; :func:`supported` says no to categorical splits, linear
trees, zero-as-missing and paths with more than 8 distinct features, and callers then use LightGBM.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import factorial
from typing import Any

import numpy as np

KEY_GROUP_CODES = 4096  # features share one row code while their bins combine into at most this many codes
DENSE_CELLS = 1 << 24  # partitions up to this many cells find their occupied cells with a lookup table
CHUNK_ROWS = 1 << 15  # rows summed together over all trees (the partial sums stay in the CPU cache)
THREADS = min(4, os.cpu_count() or 1)  # numpy lets go of the GIL in the lookups and sums
CHUNK_CELLS = 1 << 11  # cells whose leaf terms are gathered at once


def supported(model: dict[str, Any]) -> bool:
    """Whether a ``Booster.dump_model()`` has only splits this module reproduces exactly."""
    if model.get("num_tree_per_iteration", 1) != 1 or any(info.get("is_linear") for info in model["tree_info"]):
        return False
    stack = [info["tree_structure"] for info in model["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            continue
        if node["decision_type"] != "<=" or node.get("missing_type", "None") not in ("None", "NaN"):
            return False
        stack += [node["left_child"], node["right_child"]]
    return all(
        len({f for f, *_rest in path}) <= MAX_PATH_FEATURES
        for info in model["tree_info"]
        for *_leaf, path in _leaves(info["tree_structure"])[0]
    )


def subset_weights(zero: np.ndarray) -> np.ndarray:
    """Leaves' Shapley values of each of their path's d features, per unit of leaf value, for every subset A of
    the features the row agrees with (bit k set: the row goes the path's way at all of feature k's nodes). With z
    the shares of training rows going the path's way: ``(1[k in A] - z_k) * sum over S within A-{k} of
    |S|!(d-|S|-1)!/d! * prod over j outside S and k of z_j``. ``zero`` is (leaves, d) or one leaf's (d,); the
    result (leaves, 2**d, d) or (2**d, d)."""
    batch = np.atleast_2d(np.asarray(zero, dtype=float))
    leaves, d = batch.shape
    bits = (np.arange(1 << d)[:, None] >> np.arange(d)) & 1  # (2**d, d)
    weight = np.array([factorial(s) * factorial(d - s - 1) / factorial(d) if s < d else 0.0 for s in range(d + 1)])
    out = np.empty((leaves, 1 << d, d))
    for k in range(d):
        outside = np.where(bits == 0, batch[:, None, :], 1.0)  # z_j for each j outside S
        outside[:, :, k] = 1.0
        g = np.where(bits[:, k] == 0, weight[bits.sum(axis=1)] * outside.prod(axis=2), 0.0)  # S must leave out k
        for j in range(d):  # sum over the subsets S of each A (the zeta transform, one bit at a time)
            halves = g.reshape(leaves, 1 << (d - j - 1), 2, 1 << j)
            halves[:, :, 1, :] += halves[:, :, 0, :]
        out[:, :, k] = (bits[:, k] - batch[:, k : k + 1]) * g
    return out if np.ndim(zero) == 2 else out[0]


@dataclass
class _Tree:
    """One tree, ready to be evaluated on cells: a cell key is the mixed-radix number of its features' bins."""

    features: np.ndarray  # the features it splits on
    thresholds: list[np.ndarray]  # per feature, its sorted distinct thresholds in this tree
    stride: np.ndarray  # per feature, its place value in the cell key
    radix: np.ndarray  # per feature, its number of bins (thresholds + 1)
    cells: int
    # per feature, per bin: the bits it sets in the leaves' agreement masks, one byte per leaf, packed in words
    agreement: list[np.ndarray]
    values: np.ndarray  # per leaf
    full: np.ndarray  # per leaf, the agreement mask of a row that reaches it
    # (leaf, group) terms, in group order: the leaf, and where its table (the sum of the Shapley values of the
    # group's features on the leaf's path, per agreement mask, times the leaf value) starts in ``weights``
    term_leaf: np.ndarray
    term_offset: np.ndarray
    group_ids: np.ndarray
    group_bounds: list[tuple[int, int]]
    weights: np.ndarray
    expected: float  # the mean output over the training rows (LightGBM's ExpectedValue)


MAX_PATH_FEATURES = 8  # one byte of agreement bits per leaf; 2**8 table rows per leaf


def _is_leaf(node: dict[str, Any]) -> bool:
    return "split_feature" not in node


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if _is_leaf(node) else node["internal_count"])


def _leaves(structure: dict[str, Any]) -> tuple[list[tuple[float, float, int, list[Any]]], dict[int, set[float]]]:
    """Each leaf's value, count, index and path (feature, threshold, went left, share of the node's rows), and
    each feature's thresholds."""
    thresholds: dict[int, set[float]] = {}
    leaves = []
    stack: list[tuple[dict[str, Any], list[tuple[int, float, bool, float]]]] = [(structure, [])]
    while stack:
        node, path = stack.pop()
        if _is_leaf(node):
            count, index = float(node.get("leaf_count", 0)), int(node.get("leaf_index", 0))
            leaves.append((float(node["leaf_value"]), count, index, path))
            continue
        feature, threshold, count = int(node["split_feature"]), float(node["threshold"]), _count(node)
        thresholds.setdefault(feature, set()).add(threshold)
        right, left = node["right_child"], node["left_child"]
        stack.append((right, [*path, (feature, threshold, False, _count(right) / count)]))
        stack.append((left, [*path, (feature, threshold, True, _count(left) / count)]))
    return leaves, thresholds


def _parse(structure: dict[str, Any], group_of: np.ndarray, groups: int) -> _Tree:
    leaves, thresholds = _leaves(structure)
    features = np.array(sorted(thresholds), dtype=np.int64)
    sorted_thresholds = [np.array(sorted(thresholds[f])) for f in features]
    radix = np.array([len(t) + 1 for t in sorted_thresholds], dtype=np.int64)
    stride = np.cumprod(np.concatenate([[1], radix[:-1]])).astype(np.int64)
    position = {int(f): i for i, f in enumerate(features)}
    paths = []
    for value, _count_of_leaf, _index, path in leaves:
        order: list[int] = []
        low: dict[int, int] = {}
        high: dict[int, int] = {}
        zero: dict[int, float] = {}
        for feature, threshold, left, share in path:
            i = position[feature]
            k = int(np.searchsorted(sorted_thresholds[i], threshold))
            if i not in low:
                order.append(i)
                low[i], high[i], zero[i] = 0, int(radix[i]), 1.0
            if left:  # value <= thresholds[k]: fewer than k + 1 thresholds lie below it
                high[i] = min(high[i], k + 1)
            else:
                low[i] = max(low[i], k + 1)
            zero[i] *= share
        paths.append((value, order, low, high, zero))
    words = (len(leaves) + 7) // 8
    agreement = [np.zeros((r, words), dtype=np.uint64) for r in radix]
    terms: dict[int, list[tuple[int, np.ndarray]]] = {}  # group -> (leaf, table)
    by_depth: dict[int, list[int]] = {}
    for leaf, (_value, order, _low, _high, _zero) in enumerate(paths):
        by_depth.setdefault(len(order), []).append(leaf)
    shapleys: dict[int, np.ndarray] = {}
    for d, members in by_depth.items():
        if d:
            batch = subset_weights(np.array([[paths[m][4][i] for i in paths[m][1]] for m in members]))
            shapleys.update(zip(members, batch, strict=True))
    for leaf, (value, order, low, high, _zero) in enumerate(paths):
        for bit, i in enumerate(order):
            word = agreement[i].view(np.uint8).reshape(int(radix[i]), words * 8)
            word[low[i] : high[i], leaf] |= np.uint8(1 << bit)
        if not order:
            continue
        shapley = shapleys[leaf] * value
        per_group: dict[int, np.ndarray] = {}
        for bit, i in enumerate(order):
            group = int(group_of[features[i]])
            if group >= 0:
                per_group[group] = per_group.get(group, 0.0) + shapley[:, bit]
        for group, table in per_group.items():
            terms.setdefault(group, []).append((leaf, table))
    ordered = [(group, leaf, table) for group in sorted(terms) for leaf, table in terms[group]]
    sizes = [len(table) for _group, _leaf, table in ordered]
    term_groups = np.array([group for group, _leaf, _table in ordered], dtype=np.intp)
    group_ids, group_starts = np.unique(term_groups, return_index=True)
    if len(leaves) == 1:
        expected = leaves[0][0]
    else:
        expected, total = 0.0, float(structure["internal_count"])
        for value, count, _index, _path in sorted(leaves, key=lambda leaf: leaf[2]):  # LightGBM's order and sum
            expected += (count / total) * value
    return _Tree(
        features=features,
        thresholds=sorted_thresholds,
        stride=stride,
        radix=radix,
        cells=int(np.prod(radix)) if len(radix) else 1,
        agreement=agreement,
        values=np.array([value for value, *_rest in paths]),
        full=np.array([(1 << len(order)) - 1 for _value, order, *_rest in paths], dtype=np.uint8),
        term_leaf=np.array([leaf for _group, leaf, _table in ordered], dtype=np.intp),
        term_offset=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp),
        group_ids=group_ids,
        group_bounds=list(
            zip(group_starts.tolist(), [*group_starts.tolist()[1:], len(ordered)][: len(group_ids)], strict=True)
        ),
        weights=np.concatenate([table for _group, _leaf, table in ordered]) if ordered else np.zeros(0),
        expected=expected,
    )


class CellExplainer:
    """Raw scores and per-group TreeSHAP values of a LightGBM booster (see the module's docstring)."""

    def __init__(self, model: dict[str, Any], groups: Sequence[Sequence[int]]) -> None:
        self.n_features = int(model["max_feature_idx"]) + 1
        self.groups = [list(g) for g in groups]
        group_of = np.full(self.n_features, -1, dtype=np.int64)
        for g, members in enumerate(self.groups):
            group_of[list(members)] = g
        self.trees = [_parse(info["tree_structure"], group_of, len(self.groups)) for info in model["tree_info"]]
        self.expected_value = 0.0
        for tree in self.trees:
            self.expected_value += tree.expected
        used: dict[int, set[float]] = {}
        for tree in self.trees:
            for feature, values in zip(tree.features, tree.thresholds, strict=True):
                used.setdefault(int(feature), set()).update(values.tolist())
        self.thresholds = {f: np.array(sorted(v)) for f, v in sorted(used.items())}
        self._pack_features()
        self.luts = [self._tree_luts(tree) for tree in self.trees]

    def _pack_features(self) -> None:
        """Features (those some tree uses) packed into key groups whose bins combine into few codes per row."""
        self.key_groups: list[list[int]] = [[]]
        self.key_stride: dict[int, int] = {}
        codes = 1
        for feature, values in self.thresholds.items():
            radix = len(values) + 1
            if self.key_groups[-1] and codes * radix > KEY_GROUP_CODES:
                self.key_groups.append([])
                codes = 1
            self.key_stride[feature] = codes
            self.key_groups[-1].append(feature)
            codes *= radix
        self.key_codes = [int(np.prod([len(self.thresholds[f]) + 1 for f in g])) for g in self.key_groups]
        self.key_group_of = {f: g for g, members in enumerate(self.key_groups) for f in members}

    def _tree_luts(self, tree: _Tree) -> list[tuple[int, np.ndarray]]:
        """Per key group the tree uses: row code -> that group's part of the tree's cell key."""
        position = {int(f): i for i, f in enumerate(tree.features)}
        parts = []
        for g, members in enumerate(self.key_groups):
            inside = [f for f in members if f in position]
            if not inside:
                continue
            code = np.arange(self.key_codes[g])
            lut = np.zeros(self.key_codes[g], dtype=np.int64)
            for feature in inside:
                i = position[feature]
                global_bin = (code // self.key_stride[feature]) % (len(self.thresholds[feature]) + 1)
                places = np.searchsorted(self.thresholds[feature], tree.thresholds[i])  # tree's in the global list
                lut += np.searchsorted(places, global_bin, side="left") * tree.stride[i]
            parts.append((g, lut.astype(np.int32) if tree.cells < 1 << 31 else lut))
        return parts

    def row_codes(self, X: np.ndarray) -> list[np.ndarray]:
        """Per key group each row's code: its features' bins among all the model's thresholds, in mixed radix."""
        return self.part_codes([(range(X.shape[1]), X.T, None)], len(X))

    def part_codes(
        self, parts: Sequence[tuple[Sequence[int], np.ndarray, np.ndarray | None]], n: int
    ) -> list[np.ndarray]:
        """:meth:`row_codes` from the features in parts: per part its features, their values (features, k) and
        per row the position among the k (None: k is the rows). A column's features can then be binned once per
        distinct value of the column."""
        out = [np.zeros(n, dtype=np.intp) for _ in self.key_groups]
        scratch = np.empty(n, dtype=np.intp)
        for features, values, rows in parts:
            per_group: dict[int, np.ndarray] = {}
            for feature, column in zip(features, values, strict=True):
                if feature not in self.thresholds:
                    continue  # no tree splits on it
                thresholds = self.thresholds[feature]
                if len(thresholds) == 1:
                    bins = np.greater(column, thresholds[0]).astype(np.intp)
                else:
                    bins = np.searchsorted(thresholds, column, side="left")
                group = self.key_group_of[feature]
                per_group[group] = per_group.get(group, 0) + bins * self.key_stride[feature]
            for group, code in per_group.items():
                if rows is None:
                    out[group] += code
                else:
                    out[group] += np.take(code, rows, out=scratch, mode="clip")
        return out

    def cell_table(self, t: int, keys: np.ndarray) -> np.ndarray:
        """Tree ``t``'s output (column 0) and TreeSHAP value per group (columns 1...) for the given cell keys."""
        tree = self.trees[t]
        out = np.zeros((len(keys), 1 + len(self.groups)))
        words = tree.agreement[0].shape[1] if tree.agreement else 1
        columns = 1 + tree.group_ids
        for start in range(0, len(keys), CHUNK_CELLS):
            part = keys[start : start + CHUNK_CELLS]
            agree = np.zeros((len(part), words), dtype=np.uint64)
            for i, lookup in enumerate(tree.agreement):
                agree |= lookup[(part // tree.stride[i]) % tree.radix[i]]
            masks = agree.view(np.uint8)[:, : len(tree.values)]
            rows = slice(start, start + len(part))
            out[rows, 0] = tree.values[np.argmax(masks == tree.full, axis=1)]  # the leaf the cell reaches
            if len(columns):
                leaf_masks = np.ascontiguousarray(masks.T)  # (leaves, cells): terms below are rows
                pushes = tree.weights[leaf_masks[tree.term_leaf] + tree.term_offset[:, None]]
                block = out[rows]
                for column, (first, last) in zip(columns.tolist(), tree.group_bounds, strict=True):
                    block[:, column] = pushes[first:last].sum(axis=0)
        return out

    def _tree_cells(self, t: int, codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Each row's cell number in tree ``t`` and the table of the occupied cells."""
        tree, parts = self.trees[t], self.luts[t]
        n = len(codes[0]) if codes else 0
        if not parts:
            return np.zeros(n, dtype=np.int32), self.cell_table(t, np.zeros(1, dtype=np.int64))
        key = np.take(parts[0][1], codes[parts[0][0]], mode="clip")
        scratch = np.empty_like(key)
        for g, lut in parts[1:]:
            np.take(lut, codes[g], out=scratch, mode="clip")  # "clip": no bounds check (codes are in range)
            key += scratch
        if tree.cells <= DENSE_CELLS:
            seen = np.zeros(tree.cells, dtype=bool)
            seen[key] = True
            occupied = np.flatnonzero(seen)
            small = np.uint16 if len(occupied) <= 1 << 16 else np.int32
            number = np.empty(tree.cells, dtype=small)
            number[occupied] = np.arange(len(occupied), dtype=small)
            cell: np.ndarray = np.take(number, key, out=np.empty(len(key), dtype=small), mode="clip")
        else:
            occupied, cell = np.unique(key, return_inverse=True)
        return cell, self.cell_table(t, occupied.astype(np.int64))

    def explain(self, X: np.ndarray, threads: int = THREADS) -> tuple[np.ndarray, np.ndarray]:
        """Raw score (n,) and per-group contributions (n, groups) of the rows of a finite float matrix.

        Rows are visited sorted by their codes, so that neighbours tend to share cells and the lookups stay in
        the CPU cache; the results come back in the given order.
        """
        return self.explain_codes(self.row_codes(X), threads)

    def explain_codes(self, codes: list[np.ndarray], threads: int = THREADS) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`explain` from the rows' codes (:meth:`row_codes` or :meth:`part_codes`)."""
        n = len(codes[0])
        order = _visiting_order(codes, self.key_codes) if n > CHUNK_ROWS else None
        if order is not None:
            codes = [code[order] for code in codes]
        pool = ThreadPoolExecutor(threads) if threads > 1 else None
        run: Callable[..., Any] = pool.map if pool is not None else map
        try:
            cells = list(run(self._tree_cells, range(len(self.trees)), [codes] * len(self.trees)))
            out = np.empty((n, 1 + len(self.groups)))

            def add_up(start: int) -> None:
                stop = min(start + CHUNK_ROWS, n)
                part = np.zeros((stop - start, out.shape[1]))
                scratch = np.empty_like(part)
                for cell, table in cells:  # in tree order: the raw score is summed as LightGBM sums it
                    np.take(table, cell[start:stop], axis=0, out=scratch, mode="clip")
                    part += scratch
                if order is None:
                    out[start:stop] = part
                else:
                    out[order[start:stop]] = part  # back in the given order

            list(run(add_up, range(0, n, CHUNK_ROWS)))
        finally:
            if pool is not None:
                pool.shutdown()
        return out[:, 0], out[:, 1:]


def _visiting_order(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """The rows sorted by their first key groups' codes (as many as one 63-bit number holds)."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    room = 1
    for code, size in zip(codes, sizes, strict=True):
        if room * size >= 1 << 62:
            break
        combined *= size
        combined += code
        room *= size
    return np.argsort(combined, kind="stable")
