"""Rows of a query as numpy columns, aggregated by the database into one row of JSON arrays.

Order statistics (percentiles) and sequence matching (funnels) need every value, and SQLite has neither a
percentile aggregate nor fast window sorts: ranking 100k values with ``row_number()`` took seconds where numpy
takes milliseconds. The database still does the filtering, the joins and the projection; it hands back each
column as one JSON array (``json_group_array`` on SQLite, ``json_agg`` on PostgreSQL), so fetching costs one row
instead of one Python object per value, and numpy does the sorting.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Select, func, select

from pulso.store.session import PulsoSession

Query = Select[*tuple[Any, ...]]  # a SELECT of any columns


def fetch_columns(session: PulsoSession, query: Query, kinds: dict[str, str]) -> dict[str, np.ndarray]:
    """Each column of ``query`` named in ``kinds`` as a numpy array, all in the same (unspecified) row order, with
    the given dtype: ``int64`` (the column must have no NULL: map it to a sentinel in SQL), ``float64`` (NULL
    becomes NaN) or ``object`` (text; NULL stays None). Sort in numpy where order matters."""
    rows = query.subquery("rows")
    postgres = session.get_bind().dialect.name == "postgresql"
    aggregate = func.json_agg if postgres else func.json_group_array
    found = session.execute(select(*(aggregate(rows.c[name], type_=JSON) for name in kinds))).one()
    result = {}
    for (name, kind), values in zip(kinds.items(), found, strict=True):
        if isinstance(values, str):  # a driver that hands back JSON text
            values = json.loads(values)
        result[name] = np.array(values if values is not None else [], dtype=kind)  # json_agg of no rows is NULL
    return result


def fetch_frame(session: PulsoSession, query: Query, kinds: dict[str, str]) -> pd.DataFrame:
    """:func:`fetch_columns` as a pandas frame, one column per entry of ``kinds``."""
    return pd.DataFrame(fetch_columns(session, query, kinds))
