"""``pulso clv fit`` on small CSV and Parquet transaction logs, run as a user would."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pulso.cli import app
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.summary import summarize

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    """400 customers joining over a quarter, buying at Poisson rates for a year, some dropping out."""
    rng = np.random.default_rng(11)
    rows = []
    start = date(2024, 1, 1)
    for customer in range(400):
        first = rng.integers(0, 90)
        rate = rng.gamma(0.6, 1 / 20)  # purchases per day
        lifetime = rng.exponential(200)
        day = float(first)
        while day <= min(first + lifetime, 365):
            rows.append((f"c{customer:04d}", (start + timedelta(days=int(day))).isoformat(), round(rng.gamma(5, 6), 2)))
            day += rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["cliente", "data", "valor"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fit_prints_parameters_and_writes_predictions(tmp_path: Path, transactions: pd.DataFrame, suffix: str) -> None:
    source = tmp_path / f"orders{suffix}"
    if suffix == ".csv":
        transactions.to_csv(source, index=False)
    else:
        transactions.to_parquet(source, index=False)
    output = tmp_path / f"predictions{suffix}"
    code, out = pulso(
        "clv",
        "fit",
        str(source),
        "--customer",
        "cliente",
        "--date",
        "data",
        "--value",
        "valor",
        "--until",
        "2024-09-30",
        "--output",
        str(output),
    )
    assert code == 0, out
    for model, names in (("BG/NBD", "r alpha a b"), ("Pareto/NBD", "r alpha s beta"), ("Gamma-Gamma", "p q gamma")):
        line = next(line for line in out.splitlines() if model in line)
        assert all(f"{name}=" in line for name in names.split()), line
        assert re.search(r"-[\d,]+\.\d{4}", line), line  # its log-likelihood
    predictions = pd.read_csv(output) if suffix == ".csv" else pd.read_parquet(output)
    summary = summarize(transactions, "cliente", "data", "valor", until=date(2024, 9, 30))
    assert len(predictions) == len(summary)
    assert {"p_alive_bgnbd", "expected_purchases_12m_pareto_nbd", "expected_average_value", "clv_12m_bgnbd"} <= set(
        predictions.columns
    )
    assert predictions["p_alive_bgnbd"].between(0, 1).all()
    assert (predictions["clv_12m_bgnbd"] >= 0).all()
    # the printed BG/NBD parameters are those of a direct fit on the summary
    direct = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    assert f"r={direct.r_:.6g}" in out


def test_without_value_there_is_no_gamma_gamma(tmp_path: Path, transactions: pd.DataFrame) -> None:
    source = tmp_path / "orders.csv"
    transactions.to_csv(source, index=False)
    code, out = pulso("clv", "fit", str(source), "--customer", "cliente", "--date", "data", "--time-unit", "D")
    assert code == 0, out
    assert "BG/NBD" in out and "Gamma-Gamma" not in out
    assert "times in days" in out


@pytest.mark.parametrize(
    ("args", "edit", "message"),
    [
        (["--customer", "client"], None, "--customer: column 'client' is not in"),
        (
            [],
            lambda df: df.assign(data=df["data"].where(df.index != 5, "ontem")),
            "--date: column 'data': row 5 ('ontem') is not a date",
        ),
        (
            [],
            lambda df: df.assign(valor=df["valor"].where(df.index != 2, -1.0)),
            "--value: column 'valor': row 2 (-1) is negative",
        ),
        (["--until", "30/09/2024"], None, "--until: '30/09/2024' is not a date"),
        (["--time-unit", "Y"], None, "--time-unit: 'Y' is not one of D, W, M"),
        (["--output", "out.xlsx"], None, "--output: out.xlsx must end in .csv or .parquet"),
        (["--horizon", "0"], None, "--horizon: 0 months; give at least 1"),
        (["--discount-rate", "1.5"], None, "--discount-rate: 1.5 is not a monthly rate"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, transactions: pd.DataFrame, args: list[str], edit: object, message: str
) -> None:
    source = tmp_path / "orders.csv"
    (edit(transactions) if edit else transactions).to_csv(source, index=False)  # type: ignore[operator]
    base = {"--customer": "cliente", "--date": "data", "--value": "valor"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code, out = pulso("clv", "fit", str(source), *[item for pair in base.items() for item in pair])
    assert code == 2
    assert message in " ".join(out.split())


def test_missing_file(tmp_path: Path) -> None:
    code, out = pulso("clv", "fit", str(tmp_path / "nope.csv"), "--customer", "c", "--date", "d")
    assert code == 2
    assert "does not exist" in out
