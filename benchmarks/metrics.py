"""The metrics engine against pandas and DuckDB: a 5-step funnel with a breakdown, and the response-time percentiles.

The demo (default size large: 1.1M InsightOS events, 110k Sorriso conversations) is seeded into SQLite, the
embedded default, once per size, seed and end date, and kept in ``benchmarks/.data`` for the next run; the
pipeline computes the conversation facts. The rows each computation reads are exported to Parquet (not timed).
Then, in one run and on the same rows, each computation three ways:

- **Pulso**: the metric query object on the database (SQLite, the embedded default): SQL filters, joins and
  projects, and hands each column back as one JSON array; numpy ranks the values and matches the funnel steps;
- **pandas**: a straightforward pandas implementation of the same definition, reading the Parquet files;
- **DuckDB**: an equivalent SQL query over the same Parquet files (a reference for a columnar engine).

Every timing includes reading: the database's pages for Pulso, the Parquet files for the peers. Each is run
``--repeat`` times after a warm-up run and the median kept. The three answers are compared before any figure is
printed: a benchmark of different numbers would measure nothing. Target (issue 5): faster than pandas.

    .venv/bin/python benchmarks/metrics.py [--size small|medium|large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
END_DATE = date(2026, 6, 1)  # fixed, so the cached demo stays valid whatever day it is
SEED = 42
PERCENTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
T = TypeVar("T")


def median_time(run: Callable[[], T], repeat: int) -> tuple[T, float]:
    """The answer and the median seconds of ``repeat`` runs after one warm-up run (imports, caches, plans)."""
    times, value = [], run()
    for _ in range(repeat):
        started = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - started)
    return value, statistics.median(times)  # type: ignore[return-value]


# ---------------------------------------------------------------- the data


def configure(data_dir: Path) -> None:
    os.environ.update({"PULSO_ENV": "development", "PULSO_DATA_DIR": str(data_dir)})
    os.environ.pop("PULSO_DATABASE_URL", None)
    os.environ.pop("PULSO_ADMIN_DATABASE_URL", None)
    from pulso.config import get_settings
    from pulso.store import migrate
    from pulso.store.engine import dispose_engines

    get_settings.cache_clear()
    dispose_engines()
    migrate.upgrade()


def demo(size: str) -> Path:
    """The seeded demo with its conversation facts, in a data directory reused across runs."""
    data_dir = HERE / ".data" / f"{size}-seed{SEED}-{END_DATE.isoformat()}"
    done = data_dir / "READY"
    configure(data_dir)
    if not done.exists():
        from pulso.demo import seed_demo
        from pulso.pipeline.runner import run_pipeline

        print(f"seeding the {size} demo into {data_dir} (once; later runs reuse it)", file=sys.stderr)
        started = time.perf_counter()
        seed_demo(size, SEED, end_date=END_DATE, progress=False)
        failed = [r for r in run_pipeline() if r.status != "succeeded"]
        if failed:
            raise SystemExit(f"pipeline failed: {[(r.job, r.error) for r in failed]}")
        done.write_text(f"seeded and refined in {time.perf_counter() - started:.0f} s\n")
    return data_dir


def tenant(slug: str) -> tuple[int, str]:
    from pulso.store.models import Tenant
    from pulso.store.session import platform_session

    with platform_session() as session:
        row = session.execute(select(Tenant.id, Tenant.timezone).where(Tenant.slug == slug)).one()
        return int(row[0]), str(row[1])


def export_timing_rows(tenant_id: int, directory: Path) -> None:
    """The facts and the conversation columns the percentiles read, as Parquet."""
    from pulso.store.models import Conversation, ConversationFactsRow
    from pulso.store.session import tenant_session

    facts = ConversationFactsRow
    with tenant_session(tenant_id) as session:
        rows = session.execute(
            select(
                facts.conversation_id,
                facts.created_at,
                facts.first_response_seconds,
                facts.first_response_agent_id,
                facts.reply_times,
                facts.resolution_seconds,
                Conversation.assignee_agent_id,
                Conversation.status,
            ).join(Conversation, Conversation.id == facts.conversation_id)
        ).all()
    table = pa.table(
        {
            "conversation_id": [r[0] for r in rows],
            "created_at": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "first_response_seconds": pa.array([r[2] for r in rows], pa.int64()),
            "first_response_agent_id": pa.array([r[3] for r in rows], pa.int64()),
            "reply_seconds": pa.array([[p[0] for p in r[4] if p[0] is not None] for r in rows], pa.list_(pa.int64())),
            "resolution_seconds": pa.array([r[5] for r in rows], pa.int64()),
            "assignee_agent_id": pa.array([r[6] for r in rows], pa.int64()),
            "status": [r[7] for r in rows],
        }
    )
    pq.write_table(table, directory / "timing.parquet")


# ---------------------------------------------------------------- response-time percentiles per agent

# metric -> agent id, or "all" for every conversation -> (count, mean, median, p90, p95, p99)
Stats = dict[str, dict[str, tuple[float, ...]]]


def pulso_percentiles(tenant_id: int, timezone: str, first: date, last: date) -> Stats:
    from pulso.metrics.overview import DateRange
    from pulso.metrics.support_timing import TimingParams, support_timing
    from pulso.store.session import tenant_session

    with tenant_session(tenant_id) as session:
        result = support_timing(session, TimingParams(DateRange(first, last), timezone, breakdown="agent"))
    found: Stats = {}
    for metric, rows in result.rows.items():
        found[metric] = {str(s.key): _numbers(s) for s in rows if s.key is not None}
        found[metric]["all"] = _numbers(result.totals[metric])
    return found


def _numbers(stats: Any) -> tuple[Any, ...]:
    return (stats.count, stats.mean, stats.median, stats.p90, stats.p95, stats.p99)


def _agg(frame: pd.DataFrame, key: str, value: str) -> dict[str, tuple[Any, ...]]:
    """Per agent (rows without one only count in "all") and over everything; linear quantiles, as Pulso."""
    values = frame[value]
    found: dict[str, tuple[Any, ...]] = {"all": (0, *[None] * (2 + len(PERCENTILES) - 1))}
    if len(values):
        found["all"] = (len(values), values.mean(), *values.quantile(list(PERCENTILES.values())).tolist())
    grouped = frame.dropna(subset=[key]).groupby(key)[value]
    summary = grouped.agg(["count", "mean"])
    quantiles = grouped.quantile(list(PERCENTILES.values())).unstack()
    for agent, row in summary.iterrows():
        found[str(int(agent))] = (row["count"], row["mean"], *quantiles.loc[agent].tolist())
    return found


def pandas_percentiles(directory: Path, start: datetime, end: datetime) -> Stats:
    frame = pd.read_parquet(directory / "timing.parquet")
    frame = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    first = frame.dropna(subset=["first_response_seconds"])
    replies = frame[["assignee_agent_id", "reply_seconds"]].explode("reply_seconds").dropna(subset=["reply_seconds"])
    replies["reply_seconds"] = replies["reply_seconds"].astype("int64")
    resolved = frame[(frame["status"] == "resolved")].dropna(subset=["resolution_seconds"])
    return {
        "first_response": _agg(first, "first_response_agent_id", "first_response_seconds"),
        "reply": _agg(replies, "assignee_agent_id", "reply_seconds"),
        "resolution": _agg(resolved, "assignee_agent_id", "resolution_seconds"),
    }


def duckdb_percentiles(directory: Path, start: datetime, end: datetime) -> Stats:
    source = f"read_parquet('{directory / 'timing.parquet'}')"
    within = f"created_at >= TIMESTAMPTZ '{start.isoformat()}' AND created_at < TIMESTAMPTZ '{end.isoformat()}'"
    stats = ", ".join(f"quantile_cont(v, {q})" for q in PERCENTILES.values())
    queries = {
        "first_response": f"SELECT first_response_agent_id AS g, first_response_seconds AS v FROM {source} "
        f"WHERE {within} AND first_response_seconds IS NOT NULL",
        "reply": f"SELECT assignee_agent_id AS g, unnest(reply_seconds) AS v FROM {source} WHERE {within}",
        "resolution": f"SELECT assignee_agent_id AS g, resolution_seconds AS v FROM {source} WHERE {within} "
        "AND status = 'resolved' AND resolution_seconds IS NOT NULL",
    }
    found: Stats = {}
    with duckdb.connect() as connection:
        for metric, values in queries.items():
            rows = connection.execute(
                f"SELECT grouping(g), g, count(v), avg(v), {stats} FROM ({values}) WHERE v IS NOT NULL "
                "GROUP BY GROUPING SETS ((g), ())"
            ).fetchall()
            found[metric] = {
                "all" if r[0] else str(r[1]): tuple(None if x is None else float(x) for x in r[2:])
                for r in rows
                if r[0] or r[1] is not None
            }
    return found


# ---------------------------------------------------------------- a 5-step funnel with a first-touch breakdown

STEPS = ("user_signed_up", "user_verified", "project_created", "invited_teammate", "subscription_started")
WINDOW_DAYS = 14
TOP = 10  # breakdown groups kept; the rest are summed into '(other)'
Funnel = dict[str, Any]  # {"groups": {label: [count per step]}, "median": s, "p90": s}


def export_funnel_rows(tenant_id: int, directory: Path) -> None:
    """Every track event of the tenant (the peers filter the step names themselves) and the contacts' first touch."""
    from pulso.store.models import Contact, Event
    from pulso.store.session import tenant_session

    with tenant_session(tenant_id) as session:
        events = session.execute(
            select(Event.id, Event.name, Event.contact_id, Event.anonymous_id, Event.occurred_at).where(
                Event.type == "track"
            )
        ).all()
        contacts = session.execute(select(Contact.id, Contact.first_touch_channel)).all()
    pq.write_table(
        pa.table(
            {
                "id": pa.array([r[0] for r in events], pa.int64()),
                "name": [r[1] for r in events],
                "contact_id": pa.array([r[2] for r in events], pa.int64()),
                "anonymous_id": [r[3] for r in events],
                "occurred_at": pa.array([r[4] for r in events], pa.timestamp("us", tz="UTC")),
            }
        ),
        directory / "events.parquet",
    )
    pq.write_table(
        pa.table({"id": pa.array([r[0] for r in contacts], pa.int64()), "channel": [r[1] for r in contacts]}),
        directory / "contacts.parquet",
    )


def _shape(groups: dict[str, list[int]], median: float | None, p90: float | None) -> Funnel:
    """Top groups by step-1 count (then label), the rest summed into '(other)'."""
    ordered = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    kept = dict(ordered[:TOP])
    if len(ordered) > TOP:
        kept["(other)"] = [sum(counts[i] for _, counts in ordered[TOP:]) for i in range(len(STEPS))]
    return {"groups": kept, "median": median, "p90": p90}


def pulso_funnel(tenant_id: int, timezone: str, first: date, last: date) -> Funnel:
    from datetime import timedelta

    from pulso.metrics.funnels import FunnelParams, FunnelStep, funnel
    from pulso.metrics.overview import DateRange
    from pulso.store.session import tenant_session

    params = FunnelParams(
        DateRange(first, last),
        timezone,
        tuple(FunnelStep(name) for name in STEPS),
        conversion_window=timedelta(days=WINDOW_DAYS),
        breakdown="first_touch_channel",
        breakdown_limit=TOP,
    )
    with tenant_session(tenant_id) as session:
        result = funnel(session, params)
    groups = {series.label: [step.count for step in series.steps] for series in result.breakdown}
    time = result.total.time_to_convert
    return _shape(groups, time.median_seconds, time.p90_seconds)


def pandas_funnel(directory: Path, start: datetime, end: datetime) -> Funnel:
    """Sequential, uniques: each step the earliest next-step event after the previous one, inside the window."""
    events = pd.read_parquet(directory / "events.parquet", filters=[("name", "in", list(STEPS))])
    events["person"] = events["contact_id"].map("{:.0f}".format, na_action="ignore")
    events["person"] = events["person"].fillna("anon:" + events["anonymous_id"])
    events = events.dropna(subset=["person"])
    entries = events[(events["name"] == STEPS[0]) & (events["occurred_at"] >= start) & (events["occurred_at"] < end)]
    attempts = entries[["id", "person", "occurred_at"]].rename(columns={"id": "attempt", "occurred_at": "t1"})
    attempts["depth"], attempts["last_at"] = 1, attempts["t1"]
    current = attempts.assign(prev_at=attempts["t1"], prev_id=attempts["attempt"])[
        ["attempt", "person", "t1", "prev_at", "prev_id"]
    ]
    window = pd.Timedelta(days=WINDOW_DAYS)
    attempts = attempts.set_index("attempt")
    for depth, name in enumerate(STEPS[1:], start=2):
        candidates = events.loc[events["name"] == name, ["person", "id", "occurred_at"]]
        joined = current.merge(candidates, on="person")
        after = (joined["occurred_at"] > joined["prev_at"]) | (
            (joined["occurred_at"] == joined["prev_at"]) & (joined["id"] > joined["prev_id"])
        )
        joined = joined[after & (joined["occurred_at"] <= joined["t1"] + window)]
        nearest = joined.sort_values(["attempt", "occurred_at", "id"]).drop_duplicates("attempt")
        attempts.loc[nearest["attempt"], "depth"] = depth
        attempts.loc[nearest["attempt"], "last_at"] = nearest["occurred_at"].to_numpy()
        current = nearest[["attempt", "person", "t1"]].assign(prev_at=nearest["occurred_at"], prev_id=nearest["id"])
    best = attempts.reset_index().sort_values(["person", "depth", "t1", "attempt"], ascending=[True, False, True, True])
    best = best.drop_duplicates("person")
    contacts = pd.read_parquet(directory / "contacts.parquet")
    channel = dict(zip(contacts["id"].astype(str), contacts["channel"], strict=True))
    best["group"] = best["person"].map(channel).fillna("(none)")
    groups = {
        str(group): [int((frame["depth"] >= k).sum()) for k in range(1, len(STEPS) + 1)]
        for group, frame in best.groupby("group")
    }
    converted = best.loc[best["depth"] == len(STEPS)]
    seconds = (converted["last_at"] - converted["t1"]).dt.total_seconds()
    median = float(seconds.quantile(0.5)) if len(seconds) else None
    return _shape(groups, median, float(seconds.quantile(0.9)) if len(seconds) else None)


def duckdb_funnel(directory: Path, start: datetime, end: datetime) -> Funnel:
    names = ", ".join(f"'{name}'" for name in STEPS)
    within = f"occurred_at >= TIMESTAMPTZ '{start.isoformat()}' AND occurred_at < TIMESTAMPTZ '{end.isoformat()}'"
    ctes = [
        f"e AS (SELECT id, name, occurred_at, coalesce(CAST(contact_id AS VARCHAR), 'anon:' || anonymous_id) AS person "
        f"FROM read_parquet('{directory / 'events.parquet'}') WHERE name IN ({names}) "
        "AND (contact_id IS NOT NULL OR anonymous_id IS NOT NULL))",
        f"s1 AS (SELECT id AS attempt, person, occurred_at AS t1, occurred_at AS at, id FROM e "
        f"WHERE name = '{STEPS[0]}' AND {within})",
    ]
    for k, name in enumerate(STEPS[1:], start=2):  # the earliest next-step event after the previous one
        ctes.append(
            f"m{k} AS (SELECT p.attempt, p.person, p.t1, min({{'at': c.occurred_at, 'id': c.id}}) AS m "
            f"FROM s{k - 1} p JOIN e c ON c.person = p.person AND c.name = '{name}' "
            "AND (c.occurred_at > p.at OR (c.occurred_at = p.at AND c.id > p.id)) "
            f"AND c.occurred_at <= p.t1 + INTERVAL {WINDOW_DAYS} DAY GROUP BY ALL)"
        )
        ctes.append(f"s{k} AS (SELECT attempt, person, t1, m.at AS at, m.id AS id FROM m{k})")
    depth = " + ".join(f"(s{k}.attempt IS NOT NULL)::INT" for k in range(2, len(STEPS) + 1))
    joins = " ".join(f"LEFT JOIN s{k} USING (attempt)" for k in range(2, len(STEPS) + 1))
    ctes += [
        f"attempts AS (SELECT s1.attempt, s1.person, s1.t1, 1 + {depth} AS depth, s{len(STEPS)}.at AS last_at "
        f"FROM s1 {joins})",
        "best AS (SELECT *, row_number() OVER (PARTITION BY person ORDER BY depth DESC, t1, attempt) AS r "
        "FROM attempts)",
    ]
    people = (
        f"WITH {', '.join(ctes)} SELECT b.depth, b.t1, b.last_at, coalesce(c.channel, '(none)') AS grp FROM best b "
        f"LEFT JOIN read_parquet('{directory / 'contacts.parquet'}') c ON CAST(c.id AS VARCHAR) = b.person WHERE r = 1"
    )
    counts = ", ".join(f"count(*) FILTER (WHERE depth >= {k})" for k in range(1, len(STEPS) + 1))
    with duckdb.connect() as connection:
        connection.execute(f"CREATE TEMP TABLE people AS {people}")
        rows = connection.execute(f"SELECT grp, {counts} FROM people GROUP BY grp").fetchall()
        times = connection.execute(
            "SELECT quantile_cont(epoch(last_at) - epoch(t1), 0.5), quantile_cont(epoch(last_at) - epoch(t1), 0.9) "
            f"FROM people WHERE depth = {len(STEPS)}"
        ).fetchone()
    groups = {str(row[0]): [int(x) for x in row[1:]] for row in rows}
    return _shape(groups, *(times if times else (None, None)))


def same(a: Any, b: Any) -> bool:
    """Equal structures, numbers to 1e-9 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-3)  # the funnel keeps milliseconds
    return bool(a == b)


def compare(name: str, answers: dict[str, Any]) -> list[str]:
    reference = answers["pulso"]
    return [f"{name}: {peer} differs from Pulso" for peer, answer in answers.items() if not same(reference, answer)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "medium", "large"), default="large")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = demo(args.size)
    parquet = data_dir / "parquet"
    parquet.mkdir(exist_ok=True)
    sorriso, sorriso_tz = tenant("sorriso")
    insightos, insightos_tz = tenant("insightos")
    export_timing_rows(sorriso, parquet)
    export_funnel_rows(insightos, parquet)

    from pulso.metrics.overview import DateRange

    first, last = date(2020, 1, 1), END_DATE
    start, end = DateRange(first, last).utc_bounds(sorriso_tz)
    figures: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    runs = {
        "pulso": lambda: pulso_percentiles(sorriso, sorriso_tz, first, last),
        "pandas": lambda: pandas_percentiles(parquet, start.astimezone(UTC), end.astimezone(UTC)),
        "duckdb": lambda: duckdb_percentiles(parquet, start.astimezone(UTC), end.astimezone(UTC)),
    }
    answers = {}
    for peer, run in runs.items():
        answers[peer], figures.setdefault("response_time_percentiles", {})[peer] = median_time(run, args.repeat)
    problems += compare("response_time_percentiles", answers)

    start, end = DateRange(first, last).utc_bounds(insightos_tz)
    runs = {
        "pulso": lambda: pulso_funnel(insightos, insightos_tz, first, last),
        "pandas": lambda: pandas_funnel(parquet, start.astimezone(UTC), end.astimezone(UTC)),
        "duckdb": lambda: duckdb_funnel(parquet, start.astimezone(UTC), end.astimezone(UTC)),
    }
    answers = {}
    for peer, run in runs.items():
        answers[peer], figures.setdefault("funnel_5_steps_breakdown", {})[peer] = median_time(run, args.repeat)
    problems += compare("funnel_5_steps_breakdown", answers)

    print(json.dumps({"size": args.size, "seconds": figures}, indent=1), file=sys.stderr)
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    for name, by_peer in figures.items():
        for peer, seconds in by_peer.items():
            print(f"BENCH {name}_{peer} {seconds * 1000:.0f} ms")
        print(f"BENCH {name}_vs_pandas {by_peer['pandas'] / by_peer['pulso']:.2f} x")
        print(f"BENCH {name}_vs_duckdb {by_peer['duckdb'] / by_peer['pulso']:.2f} x")


if __name__ == "__main__":
    main()
