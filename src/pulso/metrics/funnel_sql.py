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

    def _attempts(self) -> Any:
        """Per attempt: person, contact, breakdown property, seq1, the step times t1..tN and ``reached``."""
        params = self.params
        source = self._lifecycle() if params.source == "lifecycle" else self._events()
        ev = source.cte("ev")
        start_ms = int(self.start.timestamp() * 1000)
        end_ms = int(self.end.timestamp() * 1000)
        anchors = (
            select(ev.c.person, ev.c.contact_id, ev.c.bp, ev.c.seq.label("seq1"), ev.c.ts.label("t1"))
            .where(ev.c.m1 == 1, ev.c.ts >= start_ms, ev.c.ts < end_ms)
            .cte("a")
        )
        chain = self._any(ev, anchors) if params.order == "any" else self._sequence(ev, anchors)
        times = [chain.c[f"t{k}"] for k in range(1, self.n + 1)]
        reached: Any = case(*((times[k].is_(None), k) for k in range(1, self.n)), else_=self.n)
        reach = [times[0]] + [
            self._greatest(*times[1 : k + 1]) if params.order == "any" else times[k] for k in range(1, self.n)
        ]
        att = select(
            chain.c.person,
            chain.c.contact_id,
            chain.c.bp,
            chain.c.seq1,
            *(value.label(f"r{k}") for k, value in enumerate(reach, 1)),
            reached.label("reached"),
        ).cte("att")
        return self._excluded(ev, att)

    def _sequence(self, ev: Any, anchors: Any) -> Any:
        """sequential and strict: each step the earliest matching row after the previous step's row."""
        previous, seq_name = anchors, "seq1"
        for k in range(2, self.n + 1):
            e = ev.alias(f"e{k}")
            conditions = [e.c.person == previous.c.person, e.c[f"m{k}"] == 1]
            conditions.append(e.c.ts <= previous.c.t1 + self.window_ms)
            if self.params.order == "strict":
                conditions.append(e.c.seq == previous.c[seq_name] + 1)
            else:
                conditions.append(e.c.seq > previous.c[seq_name])
            step_window = self.params.step_windows[k - 2] if self.params.step_windows else None
            if step_window is not None:
                conditions.append(e.c.ts <= previous.c[f"t{k - 1}"] + int(step_window.total_seconds() * 1000))
            carried = [previous.c[name] for name in ("person", "contact_id", "bp", "seq1")]
            carried += [previous.c[f"t{i}"] for i in range(1, k)]
            previous = (
                select(*carried, func.min(e.c.seq).label(f"seq{k}"), func.min(e.c.ts).label(f"t{k}"))
                .select_from(previous.outerjoin(e, and_(*conditions)))
                .group_by(*carried)
                .cte(f"s{k}")
            )
            seq_name = f"seq{k}"
        return previous

    def _any(self, ev: Any, anchors: Any) -> Any:
        """any: per step, the earliest matching row after the step-1 row and inside the window."""
        e = ev.alias("e")
        conditions = [e.c.person == anchors.c.person, e.c.seq > anchors.c.seq1]
        conditions.append(e.c.ts <= anchors.c.t1 + self.window_ms)
        carried = [anchors.c[name] for name in ("person", "contact_id", "bp", "seq1", "t1")]
        earliest = [func.min(case((e.c[f"m{k}"] == 1, e.c.ts))).label(f"t{k}") for k in range(2, self.n + 1)]
        return (
            select(*carried, *earliest).select_from(anchors.outerjoin(e, and_(*conditions))).group_by(*carried).cte("s")
        )

    def _excluded(self, ev: Any, att: Any) -> Any:
        """The attempts with ``reached`` cut back to an exclusion's ``from`` step where the exclusion applies."""
        if not self.params.exclusions:
            return att
        cut: list[tuple[int, Any]] = []
        for j, exclusion in enumerate(self.params.exclusions, 1):
            f, t = exclusion.from_step, exclusion.to_step
            # the furthest step reached among from+1..to (only read when reached > from)
            between = [(att.c.reached == k, att.c[f"r{k}"]) for k in range(f + 1, t)]
            furthest = case(*between, else_=att.c[f"r{t}"]) if between else att.c[f"r{t}"]
            e = ev.alias(f"x{j}e")
            hit = (
                select(att.c.person, att.c.seq1)
                .join(
                    e,
                    and_(
                        e.c.person == att.c.person,
                        e.c[f"x{j}"] == 1,
                        e.c.ts > att.c[f"r{f}"],
                        e.c.ts < furthest,
                        att.c.reached > f,
                    ),
                )
                .distinct()
                .cte(f"x{j}")
            )
            cut.append((f, hit))
        query = select(*(col for col in att.c if col.name != "reached"))
        frm = att
        whens = []
        for f, hit in sorted(cut, key=lambda item: item[0]):
            frm = frm.outerjoin(hit, and_(hit.c.person == att.c.person, hit.c.seq1 == att.c.seq1))
            whens.append((hit.c.person.is_not(None), f))
        reached = case(*whens, else_=att.c.reached).label("reached")
        return query.add_columns(reached).select_from(frm).cte("att_x")

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
