"""Scoring 1,000,000 leads with probabilities and reasons, against the previous implementation and LightGBM.

The model is trained once, as ``pulso train leads`` does, on the UCI bank-marketing file
(../shared/datasets/uci-bank-marketing/bank-full.csv, 45,211 calls, without ``duration``, which is known only after
the call); LightGBM wins on validation. The leads to score are its rows drawn a million times and perturbed so that
they are not copies: ages moved by up to 3 years, balances scaled by a lognormal factor and shifted, the day of the
month drawn afresh, some campaigns and pdays moved, 1% of categorical cells swapped between rows, 0.5% of cells
blanked and a few unseen categories. The frame holds text cells, as an import stores them.

Timed, each stage in wall and CPU seconds (``--repeat`` runs; the first one also builds the model's cell explainer,
once per process):

- **Pulso**: :meth:`TrainedLeadModel.score_with_reasons` (distinct values, features, one pass over the trees for
  probabilities and per-column pushes, the choice of reasons) plus the text of every reason;
- **previous implementation** (kept below as it was): features cell by cell, LightGBM's ``predict_proba`` and
  ``pred_contrib=True``, the row-by-row reasons loop; on a ``--sample`` of the leads and extrapolated linearly to a
  million (LightGBM's contributions take 0.5 to 1 ms per lead here). Its answers are compared with Pulso's on
  that sample first: same probabilities bit for bit, same reasons;
- **LightGBM's own prediction** of the million probabilities (no reasons), with all cores: a floor for any scorer
  of this model that walks its trees.

Then the storage side: every lead's reasons as the rows ``lead_scores`` keeps, and those million rows appended
with :func:`pulso.ml.leads.service.write_lead_scores` into SQLite and PostgreSQL (when reachable), against the ORM's
``session.add_all`` on ``--orm-sample`` rows, extrapolated.

    .venv/bin/python benchmarks/lead_scoring.py [--leads 1000000] [--repeat 3] [--sample 20000] [--no-store]

Output: ``BENCH <name> <value> <unit>`` lines; ``<name>_vs_<peer>`` is the peer's time over Pulso's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))  # tests.ml.previous_scoring: the implementation the fast path replaced

from tests.ml.previous_scoring import reference_reasons, reference_transform  # noqa: E402

from pulso.ml.leads.reasons import EFFECTS  # noqa: E402
from pulso.ml.leads.train import TrainedLeadModel, train_leads  # noqa: E402

BANK = HERE.parent.parent / "shared" / "datasets" / "uci-bank-marketing" / "bank-full.csv"
PG = "postgresql+psycopg://{user}@127.0.0.1:5432/{db}"
T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float, float]:
    """The answer, wall seconds and CPU seconds (all threads) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = run()
    return value, time.perf_counter() - wall, time.process_time() - cpu


# ---------------------------------------------------------------- the leads


def leads(bank: pd.DataFrame, n: int, seed: int = 20261123) -> pd.DataFrame:
    """``n`` perturbed draws of the bank's rows (see the module docstring), as text cells."""
    rng = np.random.default_rng(seed)
    out = bank.iloc[rng.integers(0, len(bank), n)].reset_index(drop=True)
    number = {c: pd.to_numeric(out[c]).to_numpy() for c in ("age", "balance", "day", "campaign", "pdays")}
    columns = {
        "age": np.clip(number["age"] + rng.integers(-3, 4, n), 18, 95),
        "balance": np.round(number["balance"] * rng.lognormal(0, 0.2, n) + rng.integers(-100, 101, n)).astype(int),
        "day": rng.integers(1, 32, n),
        "campaign": number["campaign"] + (rng.random(n) < 0.2),
        "pdays": np.where(number["pdays"] < 0, -1, np.maximum(number["pdays"] + rng.integers(-10, 11, n), 1)),
    }
    for name, values in columns.items():
        out[name] = pd.Series(values).astype(str)
    for name in ("job", "marital", "education", "contact", "month", "poutcome", "housing", "loan"):
        swap = rng.random(n) < 0.01
        out.loc[swap, name] = out[name].to_numpy()[rng.integers(0, n, int(swap.sum()))]
    for name in out.columns:
        out.loc[rng.random(n) < 0.005, name] = None
    out.loc[rng.random(n) < 0.001, "job"] = "influencer"  # never seen in training
    return out


# ---------------------------------------------------------------- the previous implementation, as it was


def previous_scoring(model: TrainedLeadModel, frame: pd.DataFrame) -> tuple[np.ndarray, list[Any], dict[str, float]]:
    scorer, stages = model.scorer, {}
    features, stages["features"], _ = timed(lambda: reference_transform(model.builder, frame))
    matrix = features.to_numpy(dtype=float)
    raw, stages["probabilities"], _ = timed(lambda: scorer.estimator_.predict_proba(matrix)[:, 1])
    probability = scorer._calibrated(raw)
    booster = scorer.estimator_.booster_
    values, stages["contributions"], _ = timed(lambda: booster.predict(matrix, pred_contrib=True))
    contributions = pd.DataFrame(values, columns=[*scorer.feature_names_in_, "(baseline)"])
    why, stages["reasons"], _ = timed(lambda: reference_reasons(contributions, frame, model.builder))
    return probability, why, stages


# ---------------------------------------------------------------- Pulso


def pulso_scoring(model: TrainedLeadModel, frame: pd.DataFrame) -> tuple[np.ndarray, Any, dict[str, float]]:
    """Probabilities and reasons, every reason's text built; per-stage wall seconds."""
    from pulso.ml.leads.reasons import column_groups, explain

    builder, stages = model.builder, {}
    cells, stages["distinct values"], _ = timed(lambda: builder.cells(frame))
    encoded, stages["features"], _ = timed(lambda: builder.encode(frame, cells))
    columns, groups = column_groups(builder, builder.feature_names_)
    found, stages["trees: probabilities + contributions"], _ = timed(
        lambda: model.scorer.predict_encoded_with_contributions(encoded, len(frame), groups)
    )
    if found is None:
        sys.exit("the model has no cell explainer: this benchmark measures the LightGBM path")
    probability, pushes = found
    why, stages["choice of reasons"], _ = timed(lambda: explain(pushes, columns, frame, builder, 3, cells))
    top = why.raises.columns.shape[1]
    _texts, stages["reason texts"], _ = timed(lambda: [why.texts(e, s) for e in EFFECTS for s in range(top)])
    return probability, why, stages


def score(model: TrainedLeadModel, frame: pd.DataFrame, repeat: int) -> tuple[np.ndarray, Any, float]:
    walls, cpus = [], []
    model.scorer.__dict__.pop("_explainers", None)  # the first run builds it, as a fresh process would
    for run in range(repeat):
        (probability, why, stages), wall, cpu = timed(lambda: pulso_scoring(model, frame))
        walls.append(wall)
        cpus.append(cpu)
        shown = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
        print(
            f"# run {run + 1}{' (builds the cell explainer)' if run == 0 else ''}: {wall:.2f} s wall, "
            f"{cpu:.2f} s CPU ({shown})"
        )
    warm_walls, warm_cpus = (walls[1:], cpus[1:]) if repeat > 1 else (walls, cpus)
    label = label_of(len(frame))
    print(f"BENCH lead_scoring_{label}_seconds {statistics.median(warm_walls):.2f} s")
    print(f"BENCH lead_scoring_{label}_cpu_seconds {statistics.median(warm_cpus):.2f} s")
    print(f"BENCH lead_scoring_{label}_first_run_seconds {walls[0]:.2f} s")
    return probability, why, statistics.median(warm_walls)


def label_of(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


# ---------------------------------------------------------------- storage


def configure(**env: str) -> None:
    from pulso.config import get_settings
    from pulso.store.engine import dispose_engines

    for key, value in env.items():
        os.environ[f"PULSO_{key.upper()}"] = value
    get_settings.cache_clear()
    dispose_engines()


def write(store: str, rows: list[dict[str, Any]], orm_sample: int) -> None:
    """Append the rows into a fresh ``store`` database; the ORM's add_all on a sample for comparison."""
    from sqlalchemy import Table, delete

    from pulso.ml.leads.service import write_lead_scores
    from pulso.store import bulk, migrate, platform_session, tenant_session
    from pulso.store.models import Contact, LeadScore, ModelVersion
    from pulso.tenancy.service import create_tenant

    migrate.upgrade()
    with platform_session() as session:
        tenant_id = int(create_tenant(session, slug="banco", name="Banco").id)
    contacts = 20_000  # each scored 50 times over: the history lead_scores keeps
    with tenant_session(tenant_id) as session:
        table = Contact.__table__
        assert isinstance(table, Table)
        ids = bulk.insert_with_ids(session, table, [{"tenant_id": tenant_id, "name": f"{i}"} for i in range(contacts)])
        version = ModelVersion(tenant_id=tenant_id, kind="lead_score", version="v1", code_version="", data_hash="")
        session.add(version)
        session.flush()
        version_id = version.id
    for row, contact_id in zip(rows, np.resize(ids, len(rows)).tolist(), strict=True):
        row.update(tenant_id=tenant_id, contact_id=contact_id, model_version_id=version_id)

    def bulk_write() -> None:
        with tenant_session(tenant_id) as session:
            write_lead_scores(session, rows)

    _, seconds, cpu = timed(bulk_write)
    print(f"# {store}: {len(rows):,} lead_scores rows appended in {seconds:.1f} s ({cpu:.1f} s CPU in Python)")
    with tenant_session(tenant_id) as session:
        session.execute(delete(LeadScore))

    def orm_write() -> None:
        with tenant_session(tenant_id) as session:
            session.add_all(LeadScore(**row) for row in rows[:orm_sample])
            session.flush()

    _, orm_seconds, _ = timed(orm_write)
    orm_extrapolated = orm_seconds * len(rows) / orm_sample
    print(
        f"# {store}: ORM add_all of {orm_sample:,} rows {orm_seconds:.1f} s, extrapolated linearly to "
        f"{len(rows):,}: {orm_extrapolated:.0f} s"
    )
    label = label_of(len(rows))
    print(f"BENCH lead_scores_write_{store}_{label}_seconds {seconds:.1f} s")
    print(f"BENCH lead_scores_write_{store}_vs_orm_add_all {orm_extrapolated / seconds:.1f} x")


def storage(rows: list[dict[str, Any]], orm_sample: int) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    with tempfile.TemporaryDirectory() as directory:
        configure(env="development", data_dir=directory, database_url="", admin_database_url="")
        write("sqlite", rows, orm_sample)
    name = f"pulso_bench_{uuid.uuid4().hex[:8]}"
    maintenance = create_engine(PG.format(user="postgres", db="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(sql(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"# PostgreSQL not reachable ({type(exc).__name__}); PostgreSQL figures skipped")
        return
    try:
        configure(
            database_url=PG.format(user="pulso_app", db=name), admin_database_url=PG.format(user="postgres", db=name)
        )
        write("postgres", rows, orm_sample)
    finally:
        configure()
        with maintenance.connect() as conn:
            conn.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


# ---------------------------------------------------------------- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20_000, help="leads the previous implementation scores")
    parser.add_argument("--orm-sample", type=int, default=50_000)
    parser.add_argument("--no-store", action="store_true", help="skip writing lead_scores rows")
    args = parser.parse_args()
    if not BANK.exists():
        print(f"SKIP lead_scoring: {BANK} is missing (the shared datasets live next to the repository)")
        return

    bank = pd.read_csv(BANK, sep=";", dtype=str)
    result, seconds, _ = timed(lambda: train_leads(bank, "y", exclude=["duration"]))
    model = result.model
    print(
        f"# trained on bank-full without duration in {seconds:.1f} s: {model.scorer.chosen_} chosen, "
        f"validation ROC AUC {result.metrics['roc_auc']:.3f}, {len(model.builder.feature_names_)} features "
        f"from {len(model.builder.columns_)} columns"
    )
    frame = leads(bank.drop(columns=["y", "duration"]), args.leads)
    print(
        f"# {len(frame):,} leads, {len(frame.drop_duplicates()):,} distinct; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    # the previous implementation on a sample, checked against Pulso's answers there
    sample = frame.iloc[: args.sample].reset_index(drop=True)
    old_probability, old_reasons, stages = previous_scoring(model, sample)
    new_probability, new_reasons = model.score_with_reasons(sample)
    if not np.array_equal(old_probability, new_probability) or old_reasons != new_reasons.to_list():
        sys.exit("the fast path's probabilities or reasons differ from the previous implementation's")
    print(f"# check on {len(sample):,} leads: the same probabilities (bit for bit) and the same reasons")
    previous = sum(stages.values()) * len(frame) / len(sample)
    shown = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
    print(
        f"# previous implementation on {len(sample):,} leads: {sum(stages.values()):.1f} s ({shown}); "
        f"extrapolated linearly to {len(frame):,}: {previous:.0f} s"
    )

    probability, why, ours = score(model, frame, args.repeat)
    label = label_of(len(frame))
    matrix = model.builder.transform(frame).to_numpy()
    booster = model.scorer.estimator_.booster_
    _, lightgbm, lightgbm_cpu = timed(lambda: booster.predict(matrix, num_threads=os.cpu_count() or 1))
    print(
        f"# LightGBM predict, probabilities only, {os.cpu_count()} threads: {lightgbm:.2f} s ({lightgbm_cpu:.2f} s CPU)"
    )
    print(f"BENCH lead_scoring_{label}_lightgbm_predict_seconds {lightgbm:.2f} s")
    print(f"BENCH lead_scoring_vs_previous {previous / ours:.1f} x")
    print(f"BENCH lead_scoring_vs_lightgbm_predict {lightgbm / ours:.2f} x")

    from pulso.ml.leads.service import lead_score_rows

    now = datetime.now(UTC)
    rows, seconds, _ = timed(lambda: lead_score_rows(0, 0, list(range(len(frame))), probability, why, now))
    print(f"# every lead's reasons as lead_scores rows (dicts, in Python): {seconds:.2f} s")
    print(f"BENCH lead_scoring_{label}_rows_seconds {seconds:.2f} s")
    if not args.no_store:
        storage(rows, args.orm_sample)


if __name__ == "__main__":
    main()
