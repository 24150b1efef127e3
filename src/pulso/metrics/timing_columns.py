"""One scan of ``conversation_facts`` for the support-timing metrics: each metric's values, and their group keys,
as numpy arrays.

The database selects the facts (joining conversations only for the global filters) and aggregates every column
into one comma-separated text: ``group_concat`` on SQLite, ``string_agg`` on PostgreSQL. Each metric's columns
share one ``FILTER`` (the rows that measure it), so they stay aligned, and all metrics come out of the same pass.
Reply times are stored per conversation as JSON pairs ``[[seconds, business seconds or null], ...]``: their texts
are concatenated as stored, one conversation after another (``;``), numpy reads the integers (``null`` becomes
:data:`NULL_SECONDS`) and counts each conversation's pairs by their brackets to repeat its keys. Parsing integers
is ten times faster than JSON, and one aggregated row is far cheaper to fetch than one Python row per value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import Text, cast, func, literal_column, select, text, type_coerce
from sqlalchemy.orm import aliased

from pulso.metrics.percentiles import NO_KEY
from pulso.store.models import Conversation, ConversationFactsRow
from pulso.store.session import PulsoSession

Metric = Literal["first_response", "reply", "resolution"]
Facts = Any  # ConversationFactsRow, or an alias of it
Conditions = Callable[[Facts], Sequence[Any]]  # conditions on the facts (and on conversations, when joined)
KeyOf = Callable[[Facts, Metric], Any]  # a group key's integer SQL expression over the facts, for one metric
# Reply texts become comma-separated integers in one byte translation: brackets blank, the separator between
# conversations a comma, and null (n, u, l, l) -1 and blanks. Reply times are never negative (a reply follows
# the message it answers), so -1 is free to stand for null.
NULL_SECONDS = -1
REPLY_BYTES = bytes.maketrans(b"[];nul", b"  ,-1 ")
# SQLite reads the facts of a range through the (tenant_id, created_at) index, one row lookup each; from half the
# table on, reading the whole table is faster (it costs half as much per row), but SQLite cannot tell without
# statistics on dates, so the choice is made here and the index is then refused with NOT INDEXED.
SCAN_FROM = 0.5


@dataclass(frozen=True)
class MetricColumns:
    """One metric's measurements (int64 seconds) and, per key name, each measurement's key (int64, NO_KEY: NULL)."""

    values: np.ndarray
    keys: dict[str, np.ndarray]


def timing_columns(
    session: PulsoSession,
    start: datetime,
    end: datetime,
    conditions: Conditions,
    *,
    join_conversations: bool,
    business_hours: bool,
    metrics: Sequence[Metric],
    keys: dict[str, KeyOf] | None = None,
    scan: bool | None = None,
) -> dict[Metric, MetricColumns]:
    """The ``metrics`` of the facts created in [start, end) that meet ``conditions``, with the keys ``keys`` names
    (NULL becomes :data:`NO_KEY`). Conversations are joined when asked, for conditions on them. ``scan`` reads
    the whole table on SQLite (None: when the range holds at least :data:`SCAN_FROM` of it; ignored on
    PostgreSQL)."""
    keys = keys or {}
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        scan = False  # PostgreSQL's planner has the statistics to choose
    elif scan is None:
        scan = whole_table_pays(session, start, end)
    facts = aliased(ConversationFactsRow, _whole_table(), name="facts") if scan else ConversationFactsRow

    def concat(expression: Any, separator: str = ",") -> Any:
        if postgres:
            return func.string_agg(cast(expression, Text), literal_column(f"'{separator}'"), type_=Text)
        return func.group_concat(expression, literal_column(f"'{separator}'"), type_=Text)

    columns: list[Any] = []
    for metric in metrics:
        if metric == "reply":
            pairs: Any
            if postgres:
                pairs, measured = cast(facts.reply_times, Text), func.jsonb_array_length(facts.reply_times) > 0
            else:  # the JSON text as stored
                pairs = type_coerce(facts.reply_times, Text)
                measured = pairs != "[]"
            columns.append(concat(pairs, ";").filter(measured))
        else:
            value, measured = _value(facts, metric, business_hours)
            columns.append(concat(value).filter(measured))
        columns += [concat(func.coalesce(key(facts, metric), NO_KEY)).filter(measured) for key in keys.values()]
    query = select(*columns).select_from(facts).where(facts.created_at >= start, facts.created_at < end)
    if join_conversations:
        query = query.join(Conversation, Conversation.id == facts.conversation_id)
    row = iter(session.execute(query.where(*conditions(facts))).one())
    found: dict[Metric, MetricColumns] = {}
    for metric in metrics:
        if metric == "reply":
            joined = next(row)
            found[metric] = parse_replies(joined, {name: _integers(next(row)) for name in keys}, business_hours)
        else:
            found[metric] = MetricColumns(_integers(next(row)), {name: _integers(next(row)) for name in keys})
    return found


def whole_table_pays(session: PulsoSession, start: datetime, end: datetime) -> bool:
    """Whether the tenant's facts in [start, end) are at least :data:`SCAN_FROM` of the table's rows (ids
    approximate its size). Counted on the index alone, and only up to that many."""
    table = ConversationFactsRow.__table__
    size = session.scalar(select(func.max(table.c.id))) or 0  # the table's, every tenant's: a size, no rows
    enough = int(size * SCAN_FROM) + 1
    facts = ConversationFactsRow
    in_range = select(facts.id).where(facts.created_at >= start, facts.created_at < end).limit(enough).subquery()
    return (session.scalar(select(func.count()).select_from(in_range)) or 0) >= enough


def _whole_table() -> Any:
    """``conversation_facts NOT INDEXED``, as a subquery SQLite flattens: the tenant's filter still applies."""
    columns = ConversationFactsRow.__table__.c
    names = ", ".join(column.name for column in columns)
    return (
        text(f"SELECT {names} FROM {ConversationFactsRow.__tablename__} NOT INDEXED")
        .columns(*columns)
        .subquery("facts")
    )


def _value(facts: Facts, metric: Metric, business_hours: bool) -> tuple[Any, Any]:
    """A one-per-conversation metric's value and the condition for a conversation to measure it."""
    if metric == "first_response":
        value = facts.first_response_business_seconds if business_hours else facts.first_response_seconds
        return value, value.is_not(None)
    value = facts.resolution_business_seconds if business_hours else facts.resolution_seconds
    return value, value.is_not(None) & (facts.status == "resolved")


def _integers(text: str | None) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, dtype=np.int64)


def parse_replies(text: str | None, keys: dict[str, np.ndarray], business_hours: bool) -> MetricColumns:
    """Reply values from the JSON pairs of each conversation, joined by ``;``; each conversation's keys repeated
    over its pairs (counted by their opening brackets)."""
    if not text:  # no conversation with replies
        return MetricColumns(np.empty(0, dtype=np.int64), {name: np.empty(0, dtype=np.int64) for name in keys})
    raw = text.encode("ascii")
    flat = np.fromstring(raw.translate(REPLY_BYTES), dtype=np.int64, sep=",")
    if len(flat) % 2:
        raise ValueError("conversation_facts.reply_times: expected lists of [seconds, business seconds] pairs")
    values = flat.reshape(-1, 2)[:, 1 if business_hours else 0]
    measured = values != NULL_SECONDS
    if not keys:
        return MetricColumns(values[measured], {})
    characters = np.frombuffer(raw, dtype=np.uint8)
    brackets = np.flatnonzero(characters == ord("["))
    ends = np.searchsorted(brackets, np.flatnonzero(characters == ord(";")))  # brackets before each separator
    pairs = np.diff(np.concatenate(([0], ends, [len(brackets)]))) - 1
    if int(pairs.sum()) != len(values) or any(len(key) != len(pairs) for key in keys.values()):
        raise ValueError("conversation_facts.reply_times: pairs and conversations do not line up")
    return MetricColumns(values[measured], {name: np.repeat(key, pairs)[measured] for name, key in keys.items()})
