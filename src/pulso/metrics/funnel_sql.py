"""The SQL of :mod:`pulso.metrics.funnels`: one CTE chain, the same on SQLite and PostgreSQL.

``ev``: the candidate rows (step and exclusion events, or lifecycle moments) with a person key, the time in integer
milliseconds, one 0/1 flag per step and exclusion, and ``seq``, the row's rank among the person's rows.
``a``: the attempts (step-1 rows in the range). ``s2`` .. ``sN``: per attempt, the earliest qualifying row of each
next step (a GROUP BY over a join on the person, so it uses hash joins, not per-row subqueries). ``att``: how far
each attempt got, exclusions applied; ``units``: what is counted (every attempt, or each person's best one);
``long``: one row per unit and step reached with the time from the previous step. The summary selects counts,
the ranks around the median and P90, and histogram bins from ``long`` in one statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.types import NullType

from pulso.metrics.support_timing import PERCENTILES as ALL_PERCENTILES
from pulso.store.models import Contact, Event
from pulso.store.session import PulsoSession

if TYPE_CHECKING:
    from pulso.metrics.funnels import FunnelParams

ANONYMOUS = "anon:"  # person key prefix of events without a contact
PERCENTILES = {name: ALL_PERCENTILES[name] for name in ("median", "p90")}


class FunnelQuery:
    """Builds the statements of one funnel; nothing runs until the caller executes them."""

    def __init__(self, session: PulsoSession, params: FunnelParams, start: datetime, end: datetime) -> None:
        self.session = session
        self.params = params
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.start, self.end = start, end
        self.window_ms = int(params.conversion_window.total_seconds() * 1000)
        self.n = len(params.steps)

    # ------------------------------------------------------------ time

    def _ms(self, column: Any) -> Any:
        """A timestamp as integer milliseconds since the epoch, so windows and durations are integer arithmetic."""
        if self.postgres:
            return cast(func.round(extract("epoch", column) * 1000), BigInteger)
        return cast(func.round((func.julianday(column) - 2440587.5) * 86400000.0), Integer)

    def _greatest(self, *columns: Any) -> Any:
        if len(columns) == 1:
            return columns[0]
        return func.greatest(*columns) if self.postgres else func.max(*columns)

    # ------------------------------------------------------------ candidate rows

    def _text(self, json_value: Any) -> Any:
        return cast(json_value.as_string(), String)

    def _events(self) -> Any:
        params, e = self.params, Event
        person = case(
            (e.contact_id.is_not(None), cast(e.contact_id, String)), else_=literal(ANONYMOUS).concat(e.anonymous_id)
        )
        flags = []
        for k, step in enumerate(params.steps, 1):
            matches = [
                e.name == step.event,
                *(self._text(e.properties[key]) == value for key, value in step.properties),
            ]
            flags.append(case((and_(*matches), 1), else_=0).label(f"m{k}"))
        for j, exclusion in enumerate(params.exclusions, 1):
            flags.append(case((e.name == exclusion.event, 1), else_=0).label(f"x{j}"))
        columns = [person.label("person"), e.contact_id.label("contact_id"), self._ms(e.occurred_at).label("ts")]
        if params.breakdown.startswith("property:"):
            value = self._text(e.properties[params.breakdown_key])
            columns.append(case((e.name == params.steps[0].event, value)).label("bp"))
        else:
            columns.append(cast(null(), String).label("bp"))
        until = self.end + params.conversion_window
        conditions = [
            e.tenant_id == self.session.tenant_id,  # the index's first column, stated for the planner
            e.type == "track",
            e.occurred_at >= self.start,
            e.occurred_at < until,
            or_(e.contact_id.is_not(None), e.anonymous_id.is_not(None)),
        ]
        if params.order != "strict":  # strict needs every track event, to know which one came next
            names = {step.event for step in params.steps} | {x.event for x in params.exclusions}
            conditions.append(e.name.in_(sorted(names)))
        if params.filters.active:
            conditions.append(e.contact_id.in_(select(Contact.id).where(*params.filters.contact_conditions())))
        sequence = func.row_number().over(partition_by=person, order_by=(e.occurred_at, e.id)).label("seq")
        return select(*columns, *flags, sequence).where(*conditions)

    def _lifecycle(self) -> Any:
        from pulso.metrics.funnels import LIFECYCLE_STEPS

        params, c = self.params, Contact
        until = self.end + params.conversion_window
        parts = []
        for index, step in enumerate(params.steps):
            moment = getattr(c, LIFECYCLE_STEPS[step.event])
            flags = [literal_column("1" if k == index else "0", Integer).label(f"m{k + 1}") for k in range(self.n)]
            parts.append(
                select(
                    cast(c.id, String).label("person"),
                    c.id.label("contact_id"),
                    self._ms(moment).label("ts"),
                    literal_column(str(index), Integer).label("ord"),
                    cast(null(), String).label("bp"),
                    *flags,
                ).where(
                    moment.is_not(None),
                    moment >= self.start,
                    moment < until,
                    c.merged_into_id.is_(None),
                    *params.filters.contact_conditions(),
                )
            )
        rows = union_all(*parts).subquery("moments")
        sequence = func.row_number().over(partition_by=rows.c.person, order_by=(rows.c.ts, rows.c.ord))
        return select(*(col for col in rows.c if col.name != "ord"), sequence.label("seq"))

    # ------------------------------------------------------------ the chain

    def _pointers(self, base: Any) -> Any:
        """``base`` plus, per row and step k >= 2, the seq and time of the person's next step-k row after it
        (``n{k}``, ``tn{k}``; strict: only if it is the very next row) and of the next exclusion-j row (``tx{j}``).
        Computed once by window functions, so each step of the chain is an equality lookup, never a range join."""
        rows = base.subquery("base")
        person, seq = rows.c.person, rows.c.seq
        after = {"partition_by": person, "order_by": seq.desc(), "rows": (None, -1)}  # the rows after this one
        columns = [*rows.c]
        for k in range(2, self.n + 1):
            flag = rows.c[f"m{k}"]
            if self.params.order == "strict":
                is_next = func.lead(flag).over(partition_by=person, order_by=seq) == 1
                columns.append(case((is_next, seq + 1)).label(f"n{k}"))
                next_ts = func.lead(rows.c.ts).over(partition_by=person, order_by=seq)
                columns.append(case((is_next, next_ts)).label(f"tn{k}"))
            else:
                columns.append(func.min(case((flag == 1, seq))).over(**after).label(f"n{k}"))
                columns.append(func.min(case((flag == 1, rows.c.ts))).over(**after).label(f"tn{k}"))
        for j in range(1, len(self.params.exclusions) + 1):
            columns.append(func.min(case((rows.c[f"x{j}"] == 1, rows.c.ts))).over(**after).label(f"tx{j}"))
        return select(*columns)

    def _attempts(self) -> Any:
        """Per attempt: person, contact, breakdown property, seq1, the step times r1..rN and ``reached``."""
        params = self.params
        base = self._lifecycle() if params.source == "lifecycle" else self._events()
        ev = self._pointers(base).cte("ev")
        start_ms = int(self.start.timestamp() * 1000)
        end_ms = int(self.end.timestamp() * 1000)
        anchors = select(
            ev.c.person, ev.c.contact_id, ev.c.bp, ev.c.seq.label("seq1"), ev.c.ts.label("t1"), *self._step(ev, ev, 2)
        ).where(ev.c.m1 == 1, ev.c.ts >= start_ms, ev.c.ts < end_ms)
        if params.order == "any":  # every step read off the step-1 row: the earliest after it in the window
            chain = anchors.add_columns(*(c for k in range(3, self.n + 1) for c in self._step(ev, ev, k))).cte("s")
        else:
            chain = self._sequence(ev, anchors.cte("s2"))
        times = [chain.c[f"t{k}"] for k in range(1, self.n + 1)]
        reached: Any = case(*((times[k].is_(None), k) for k in range(1, self.n)), else_=self.n)
        reach = [times[0]] + [
            self._greatest(*times[1 : k + 1]) if params.order == "any" else times[k] for k in range(1, self.n)
        ]
        att = select(
            *(chain.c[name] for name in ("person", "contact_id", "bp", "seq1")),
            *(chain.c[f"seq{k}"] for k in range(2, self.n + 1)),
            *(value.label(f"r{k}") for k, value in enumerate(reach, 1)),
            reached.label("reached"),
        ).cte("att")
        return self._excluded(ev, att)

    def _step(self, row: Any, first: Any, k: int, previous_time: Any = None) -> list[Any]:
        """seq{k} and t{k}: the next step-k row after ``row`` if it falls inside the whole window (from ``first``'s
        t1 or ts) and the step window (from ``previous_time``). The earliest is the only candidate: a later one
        would be further still."""
        t1 = first.c.t1 if "t1" in first.c else first.c.ts
        at = row.c[f"tn{k}"]
        inside = [at <= t1 + self.window_ms]
        step_window = self.params.step_windows[k - 2] if self.params.step_windows else None
        if step_window is not None and self.params.order != "any":
            since = previous_time if previous_time is not None else row.c.ts
            inside.append(at <= since + int(step_window.total_seconds() * 1000))
        ok = and_(*inside)
        return [case((ok, row.c[f"n{k}"])).label(f"seq{k}"), case((ok, at)).label(f"t{k}")]

    def _lookup(self, left: Any, ev: Any, at: Any, wanted: dict[str, str], flag: str | None, name: str) -> Any:
        """``left``'s rows with ``wanted`` columns (ev name -> new name) of ``ev``'s row of the same person whose seq
        is ``at``: a join done by sorting, the same on both databases (one window partition per person and seq
        holds the ev row and the rows looking it up), as SQLite would otherwise loop over the unindexed CTE."""
        kept = list(left.c)
        rows = ev.c
        looked_up = [rows[column] for column in wanted]
        asking = select(
            left.c.person.label("_person"),
            at.label("_at"),
            *(_null(column).label(f"_{n}") for n, column in enumerate(looked_up)),
            literal_column("1", Integer).label("_asks"),
            *kept,
        )
        source = select(
            rows.person,
            rows.seq,
            *looked_up,
            literal_column("0", Integer),
            *(_null(column) for column in kept),
        )
        if flag is not None:
            source = source.where(rows[flag] == 1)  # only the rows anyone can look up
        stream = union_all(asking, source).subquery(f"{name}_stream")
        partition = (stream.c._person, stream.c._at)
        found = [
            func.max(stream.c[f"_{n}"]).over(partition_by=partition).label(new) for n, new in enumerate(wanted.values())
        ]
        spread = select(stream.c._asks, *(stream.c[column.name] for column in kept), *found).subquery(name)
        return select(*(column for column in spread.c if column.name != "_asks")).where(spread.c._asks == 1)

    def _sequence(self, ev: Any, previous: Any) -> Any:
        """sequential and strict: step k is read off the row of step k - 1 (a lookup by person and seq)."""
        for k in range(3, self.n + 1):
            wanted = {"ts": "_ts", f"n{k}": f"_n{k}", f"tn{k}": f"_tn{k}"}
            found = self._lookup(previous, ev, previous.c[f"seq{k - 1}"], wanted, f"m{k - 1}", f"l{k}").subquery()
            row = _Renamed(found, {"ts": "_ts", f"n{k}": f"_n{k}", f"tn{k}": f"_tn{k}"})
            carried = [found.c[column.name] for column in previous.c]
            previous = select(*carried, *self._step(row, found, k, found.c[f"t{k - 1}"])).cte(f"s{k}")
        return previous

    def _excluded(self, ev: Any, att: Any) -> Any:
        """The attempts with ``reached`` cut back to an exclusion's ``from`` step where the exclusion applies: the
        person's next exclusion event after the step-``from`` row comes before the furthest step reached (<= to)."""
        if not self.params.exclusions:
            return att
        current: Any = att
        order = sorted(enumerate(self.params.exclusions, 1), key=lambda item: item[1].from_step, reverse=True)
        for j, exclusion in order:  # the smallest ``from`` last, so it wins
            f, t = exclusion.from_step, exclusion.to_step
            seq_from = current.c.seq1 if f == 1 else current.c[f"seq{f}"]
            flag = "m1" if f == 1 else f"m{f}"
            found = self._lookup(current, ev, seq_from, {f"tx{j}": "_tx"}, flag, f"x{j}").subquery()
            between = [(found.c.reached == k, found.c[f"r{k}"]) for k in range(f + 1, t)]
            furthest = case(*between, else_=found.c[f"r{t}"]) if between else found.c[f"r{t}"]
            cut = and_(found.c.reached > f, found.c._tx < furthest)
            reached = case((cut, f), else_=found.c.reached).label("reached")
            current = select(*(c for c in found.c if c.name not in ("reached", "_tx")), reached).cte(f"att_x{j}")
        return current

    def _units(self, best_only: bool) -> Any:
        att = self._attempts()
        if not best_only:
            return att
        rank = func.row_number().over(partition_by=att.c.person, order_by=(att.c.reached.desc(), att.c.r1, att.c.seq1))
        ranked = select(att, rank.label("best")).cte("ranked")
        return select(*(col for col in ranked.c if col.name != "best")).where(ranked.c.best == 1).cte("units")

    # ------------------------------------------------------------ answers

    def _group(self, units: Any) -> Any:
        """Units with ``g``: '0' no value, '1' + value, '2' past the breakdown limit."""
        params = self.params
        if params.breakdown == "none":
            return select(units, cast(null(), String).label("g")).cte("grouped")
        if params.breakdown.startswith("property:"):
            raw: Any = units.c.bp
            query = select(units)
        else:
            if params.breakdown.startswith("attribute:"):
                raw = self._text(Contact.attributes[params.breakdown_key])
            else:
                raw = getattr(Contact, params.breakdown)
            query = select(units).outerjoin(Contact, Contact.id == units.c.contact_id)
        code = case((raw.is_(None), literal_column("'0'")), else_=literal_column("'1'").concat(raw))
        coded = query.add_columns(code.label("g0")).cte("coded")
        sizes = select(coded.c.g0, func.count().label("n")).group_by(coded.c.g0).cte("sizes")
        place = func.row_number().over(order_by=(sizes.c.n.desc(), sizes.c.g0))
        top = select(sizes.c.g0, place.label("place")).cte("top")
        g = case((top.c.place <= params.breakdown_limit, coded.c.g0), else_=literal_column("'2'"))
        return (
            select(*(col for col in coded.c if col.name != "g0"), g.label("g"))
            .select_from(coded.join(top, top.c.g0 == coded.c.g0))
            .cte("grouped")
        )

    def summary(self, edges_ms: list[int]) -> Any:
        """Rows (kind, g, k, x, y): 'n' counts per step k (k = N + 1: converted), 'p' (rank x, value y in ms) around
        the median and P90 of the time from step k - 1 (k = N + 1: to convert), 'h' count x in histogram bin k."""
        grouped = self._group(self._units(self.params.count == "uniques"))
        n = self.n
        parts = []
        for k in range(1, n + 2):
            if k == 1:
                value: Any = cast(null(), BigInteger)
            elif k <= n:
                value = grouped.c[f"r{k}"] - grouped.c[f"r{k - 1}"]
            else:
                value = grouped.c[f"r{n}"] - grouped.c.r1
            reached = grouped.c.reached >= min(k, n)
            parts.append(
                select(grouped.c.g, literal_column(str(k), Integer).label("k"), value.label("v")).where(reached)
            )
        long = union_all(*parts).cte("long")
        if self.params.breakdown != "none":
            everyone = select(cast(null(), String).label("g"), long.c.k, long.c.v)
            long = union_all(select(long.c.g, long.c.k, long.c.v), everyone).cte("long_all")
        counts = select(
            literal_column("'n'").label("kind"), long.c.g, long.c.k, func.count().label("x"), null().label("y")
        )
        counts = counts.group_by(long.c.g, long.c.k)
        ranked = (
            select(
                long.c.g,
                long.c.k,
                long.c.v,
                func.row_number().over(partition_by=(long.c.g, long.c.k), order_by=long.c.v).label("rn"),
                func.count().over(partition_by=(long.c.g, long.c.k)).label("n"),
            )
            .where(long.c.k >= 2)
            .subquery("ranked")
        )
        picks = []
        for num, den in PERCENTILES.values():
            low = (ranked.c.n - 1) * num // den + 1
            picks += [ranked.c.rn == low, ranked.c.rn == low + 1]
        ranks = select(literal_column("'p'"), ranked.c.g, ranked.c.k, ranked.c.rn, ranked.c.v).where(or_(*picks))
        inner = [(long.c.v < edge, literal_column(str(i), Integer)) for i, edge in enumerate(edges_ms[1:-1])]
        last = literal_column(str(len(edges_ms) - 2), Integer)
        binned = select(long.c.g, (case(*inner, else_=last) if inner else last).label("bin"))
        converted = binned.where(long.c.k == n + 1).subquery("converted")
        histogram = select(literal_column("'h'"), converted.c.g, converted.c.bin, func.count(), null())
        histogram = histogram.group_by(converted.c.g, converted.c.bin)
        return union_all(counts, ranks, histogram)

    def dropped(self, step: int, limit: int) -> Any:
        """(contact id, person, reached at in ms, name, e-mail) of the best attempts that stopped at ``step``."""
        units = self._units(best_only=True)
        at = units.c[f"r{step}"]
        return (
            select(units.c.contact_id, units.c.person, at, Contact.name, Contact.email)
            .select_from(units)
            .outerjoin(Contact, Contact.id == units.c.contact_id)  # in ON: the tenant criterion keeps anonymous rows
            .where(units.c.reached == step)
            .order_by(at.desc(), units.c.person)
            .limit(limit)
        )


class _Renamed:
    """Columns of ``selectable`` under the names :meth:`FunnelQuery._step` reads (``ts``, ``n{k}``, ``tn{k}``)."""

    def __init__(self, selectable: Any, names: dict[str, str]) -> None:
        self.c = {name: selectable.c[alias] for name, alias in names.items()}


def _null(column: Any) -> Any:
    """A typed NULL standing for ``column`` in a UNION (timestamps and ranks are integers when untyped)."""
    kind = column.type if not isinstance(column.type, NullType) else BigInteger()
    return cast(null(), kind)
