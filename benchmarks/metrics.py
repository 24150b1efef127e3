"""The metrics engine against pandas and DuckDB: a 5-step funnel with a breakdown, and the response-time percentiles.

The demo (default size large: 1.1M InsightOS events, 110k Sorriso conversations) is seeded into SQLite, the
embedded default, once per size, seed and end date, and kept in ``benchmarks/.data`` for the next run; the
pipeline computes the conversation facts. The rows each computation reads are exported to Parquet (not timed).
Then, in one run and on the same rows, each computation three ways:

- **Pulso**: the metric query object, in SQL on the database (SQLite; ``--store postgres`` copies the demo into a
  fresh PostgreSQL database first);
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

Stats = dict[str, dict[str, tuple[float, ...]]]  # metric -> agent id -> (count, mean, median, p90, p95, p99)


def pulso_percentiles(tenant_id: int, timezone: str, first: date, last: date) -> Stats:
    from pulso.metrics.overview import DateRange
    from pulso.metrics.support_timing import TimingParams, support_timing
    from pulso.store.session import tenant_session

    with tenant_session(tenant_id) as session:
        result = support_timing(session, TimingParams(DateRange(first, last), timezone, breakdown="agent"))
    return {
        metric: {str(s.key): (s.count, s.mean, s.median, s.p90, s.p95, s.p99) for s in rows if s.key is not None}  # type: ignore[misc]
        for metric, rows in result.rows.items()
    }


def _agg(frame: pd.DataFrame, key: str, value: str) -> dict[str, tuple[float, ...]]:
    grouped = frame.groupby(key)[value]
    summary = grouped.agg(["count", "mean"])
    quantiles = grouped.quantile(list(PERCENTILES.values())).unstack()  # linear interpolation, as Pulso
    return {
        str(int(agent)): (row["count"], row["mean"], *quantiles.loc[agent].tolist())
        for agent, row in summary.iterrows()
    }


def pandas_percentiles(directory: Path, start: datetime, end: datetime) -> Stats:
    frame = pd.read_parquet(directory / "timing.parquet")
    frame = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    first = frame.dropna(subset=["first_response_seconds", "first_response_agent_id"])
    replies = frame[["assignee_agent_id", "reply_seconds"]].explode("reply_seconds").dropna()
    replies["reply_seconds"] = replies["reply_seconds"].astype("int64")
    resolved = frame[(frame["status"] == "resolved")].dropna(subset=["resolution_seconds", "assignee_agent_id"])
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
        f"WHERE {within} AND first_response_seconds IS NOT NULL AND first_response_agent_id IS NOT NULL",
        "reply": f"SELECT assignee_agent_id AS g, unnest(reply_seconds) AS v FROM {source} "
        f"WHERE {within} AND assignee_agent_id IS NOT NULL",
        "resolution": f"SELECT assignee_agent_id AS g, resolution_seconds AS v FROM {source} WHERE {within} "
        "AND status = 'resolved' AND resolution_seconds IS NOT NULL AND assignee_agent_id IS NOT NULL",
    }
    found: Stats = {}
    with duckdb.connect() as connection:
        for metric, values in queries.items():
            rows = connection.execute(f"SELECT g, count(v), avg(v), {stats} FROM ({values}) GROUP BY g").fetchall()
            found[metric] = {str(r[0]): tuple(float(x) for x in r[1:]) for r in rows}
    return found


def same(a: Any, b: Any) -> bool:
    """Equal structures, numbers to 1e-9 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
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
    export_timing_rows(sorriso, parquet)

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
