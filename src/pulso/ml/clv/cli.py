"""``pulso clv fit``: BG/NBD, Pareto/NBD and Gamma-Gamma on any transaction log, no tenant or database needed."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from pulso.ml.clv._arrays import CLVInputError
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.clv import customer_lifetime_value
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.pareto_nbd import ParetoNBDModel
from pulso.ml.clv.summary import DAYS_PER_MONTH, DAYS_PER_UNIT, TimeUnit, summarize

clv_app = typer.Typer(help="Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
PARQUET_SUFFIXES = {".parquet", ".pq"}
DELIMITERS = {"tab": "\t", "space": r"\s+"}


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(2)


@clv_app.command("fit")
def fit_command(
    file: Annotated[Path, typer.Argument(help="Transaction log, CSV or Parquet: one row per purchase.")],
    customer: Annotated[str, typer.Option(help="Column with the customer id.")],
    date_column: Annotated[str, typer.Option("--date", help="Column with the purchase date (or date-time).")],
    value: Annotated[
        str | None, typer.Option(help="Column with the purchase value (enables Gamma-Gamma and CLV).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End of the observation period, e.g. 1997-09-30 (default: the last date).")
    ] = None,
    time_unit: Annotated[str, typer.Option(help="D (days), W (weeks) or M (months of 30.4375 days).")] = "W",
    output: Annotated[
        Path | None, typer.Option(help="Write the per-customer predictions here (.csv or .parquet).")
    ] = None,
    horizon: Annotated[int, typer.Option(help="Prediction horizon in months.")] = 12,
    discount_rate: Annotated[float, typer.Option(help="Monthly discount rate for the CLV.")] = 0.01,
    delimiter: Annotated[
        str, typer.Option(help="CSV delimiter: a character, 'tab' or 'space' (runs of spaces).")
    ] = ",",
) -> None:
    """Fit the models on FILE; print their parameters and log-likelihoods; write per-customer predictions."""
    unit = time_unit.upper()
    if unit not in DAYS_PER_UNIT:
        fail(f"--time-unit: {time_unit!r} is not one of D, W, M")
    if horizon < 1:
        fail(f"--horizon: {horizon} months; give at least 1")
    if not 0 <= discount_rate < 1:
        fail(f"--discount-rate: {discount_rate} is not a monthly rate in [0, 1), e.g. 0.01")
    end = _parse_until(until)
    if output is not None and output.suffix.lower() not in PARQUET_SUFFIXES | {".csv"}:
        fail(f"--output: {output} must end in .csv or .parquet")
    transactions = _read(file, [customer, date_column], DELIMITERS.get(delimiter, delimiter))
    try:
        summary = summarize(transactions, customer, date_column, value, end, _unit(unit), source=str(file))
        predictions = _fit_and_predict(summary, unit, horizon, discount_rate)
    except CLVInputError as exc:
        fail(
            str(exc)
            .replace("customer column", "--customer: column")
            .replace("date column", "--date: column")
            .replace("value column", "--value: column")
        )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        frame = predictions.reset_index()
        if output.suffix.lower() in PARQUET_SUFFIXES:
            frame.to_parquet(output, index=False)
        else:
            frame.to_csv(output, index=False)
        console.print(f"Wrote {len(frame):,} customers' predictions to {output}")
    else:
        console.print("Per-customer predictions: add --output FILE.csv (or .parquet).")


def _unit(unit: str) -> TimeUnit:
    return "D" if unit == "D" else "M" if unit == "M" else "W"


def _parse_until(until: str | None) -> date | None:
    if until is None:
        return None
    try:
        return date.fromisoformat(until)
    except ValueError:
        fail(f"--until: {until!r} is not a date like 1997-09-30")


def _read(file: Path, text_columns: list[str], delimiter: str) -> pd.DataFrame:
    """Ids and dates are read as text: leading zeros kept, 19970101 parsed as a date."""
    if not file.is_file():
        fail(f"FILE: {file} does not exist")
    try:
        if file.suffix.lower() in PARQUET_SUFFIXES:
            return pd.read_parquet(file)
        return pd.read_csv(
            file, sep=delimiter, dtype=dict.fromkeys(text_columns, str), engine="python" if len(delimiter) > 1 else "c"
        )
    except Exception as exc:  # any reader error is a problem of the user's file
        fail(f"FILE: cannot read {file}: {exc}")


def _fit_and_predict(summary: pd.DataFrame, unit: str, horizon: int, discount_rate: float) -> pd.DataFrame:
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    t = horizon * DAYS_PER_MONTH / DAYS_PER_UNIT[unit]
    bgnbd = BetaGeoModel().fit(x, t_x, age)
    pareto = ParetoNBDModel().fit(x, t_x, age)
    out = summary.copy()
    out["p_alive_bgnbd"] = bgnbd.probability_alive(x, t_x, age)
    out[f"expected_purchases_{horizon}m_bgnbd"] = bgnbd.conditional_expected_purchases(t, x, t_x, age)
    out["p_alive_pareto_nbd"] = pareto.probability_alive(x, t_x, age)
    out[f"expected_purchases_{horizon}m_pareto_nbd"] = pareto.conditional_expected_purchases(t, x, t_x, age)
    rows: list[tuple[str, dict[str, float], float, float, bool]] = [
        ("BG/NBD", bgnbd.params_, bgnbd.log_likelihood_, bgnbd.n_customers_, bgnbd.converged_),
        ("Pareto/NBD", pareto.params_, pareto.log_likelihood_, pareto.n_customers_, pareto.converged_),
    ]
    if "monetary_value" in summary:
        spend = GammaGammaModel().fit(x, summary["monetary_value"])
        out["expected_average_value"] = spend.conditional_expected_average_value(x, summary["monetary_value"])
        for name, model in (("bgnbd", bgnbd), ("pareto_nbd", pareto)):
            out[f"clv_{horizon}m_{name}"] = customer_lifetime_value(
                model, spend, x, t_x, age, summary["monetary_value"], horizon, discount_rate, unit
            )
        rows.append(("Gamma-Gamma", spend.params_, spend.log_likelihood_, spend.n_customers_, spend.converged_))
    _print_fits(rows, summary, unit)
    return out


def _print_fits(rows: list[tuple[str, dict[str, float], float, float, bool]], summary: pd.DataFrame, unit: str) -> None:
    repeaters = int((summary["frequency"] > 0).sum())
    console.print(
        f"{len(summary):,} customers ({repeaters:,} with repeat purchases); times in "
        f"{ {'D': 'days', 'W': 'weeks', 'M': 'months'}[unit] }"
    )
    table = Table("model", "parameters", "log-likelihood", "customers", "converged")
    for name, params, log_likelihood, n, converged in rows:
        shown = ", ".join(f"{key}={_sig(val)}" for key, val in params.items())
        table.add_row(name, shown, f"{log_likelihood:,.4f}", f"{n:,.0f}", "yes" if converged else "NO")
    console.print(table)


def _sig(number: float) -> str:
    return f"{number:.6g}" if np.isfinite(number) else str(number)
