"""``pulso train churn`` and ``pulso score churn``, registered on the ``train`` and ``score`` apps of lead scoring.

Each command parses, calls :mod:`pulso.ml.churn.service` inside the tenant's session, and prints; errors exit 2
with one line saying what is wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pulso.ml.churn import DEFAULT_HORIZON_DAYS
from pulso.ml.leads.cli import _fail, _tenant, console, print_validation, score_app, train_app

BASELINES = {"p_alive": "1 - P(alive)", "expected_purchases": "-expected purchases"}  # the churn scores measured


@train_app.command("churn")
def train_churn_command(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    horizon_days: Annotated[
        int, typer.Option(help="A customer churned when they made no purchase in this many days.")
    ] = DEFAULT_HORIZON_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed (split, folds, LightGBM).")] = 0,
    until: Annotated[
        str | None,
        typer.Option(help="End of the observation period, e.g. 1998-07-01 (default: now): to backtest old data."),
    ] = None,
) -> None:
    """Train the churn model on the customers as of HORIZON days ago, print its validation metrics, activate it."""
    from pulso.ml.churn.service import train_tenant

    now = _until(until)
    with _tenant(tenant) as session:
        saved = train_tenant(session, horizon_days=horizon_days, now=now, random_state=seed)
    result = saved.training.result
    print_training(result.metrics, result.warnings, saved.alive.note)
    console.print(f"saved {saved.version.kind} {saved.version.version} and made it active", highlight=False)


def _until(until: str | None) -> datetime | None:
    if until is None:
        return None
    try:
        end = datetime.combine(date.fromisoformat(until), time(0), UTC)
    except ValueError:
        _fail(f"--until: {until!r} is not a date like 1998-07-01")
    if end > datetime.now(UTC):
        _fail(f"--until: {until} is in the future; outcomes after today are not known yet")
    return end


def print_training(metrics: dict[str, Any], warnings: list[str], alive_note: str) -> None:
    print_validation(
        metrics,
        warnings,
        rows="customers",
        base_rate=f"churned in {metrics['horizon_days']} days",
        baselines=[
            (f"ROC AUC of BG/NBD {BASELINES.get(name, name)} (baseline)", auc)
            for name, auc in metrics["baseline_roc_auc"].items()
        ],
        note=f"P(alive): {alive_note}" if alive_note else "",
        calibration_labels=("predicted risk", "customers", "mean predicted", "observed churn"),
    )


@score_app.command("churn")
def score_churn_command(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    top: Annotated[int, typer.Option(help="How many at-risk customers to print.")] = 20,
    sort: Annotated[str, typer.Option(help="risk, value_at_risk or p_alive (see docs/models.md).")] = "risk",
) -> None:
    """Score the tenant's customers with the active churn model (one churn_scores row each); print the riskiest."""
    from pulso.errors import InvalidInputError
    from pulso.ml.churn.at_risk import AtRiskParams, at_risk
    from pulso.ml.churn.service import score_tenant

    try:
        params = AtRiskParams(limit=top, sort=sort)
    except InvalidInputError as exc:
        _fail(str(exc).replace("limit:", "--top:").replace("sort:", "--sort:"))
    with _tenant(tenant) as session:
        run = score_tenant(session)
        page = at_risk(session, params) if run.scored else None
    console.print(f"scored {run.scored:,} customers with churn {run.version.version}", highlight=False)
    if run.alive.note:
        console.print(f"P(alive): {run.alive.note}", highlight=False)
    if page is None:
        return
    table = Table("#", "contact", "name", "churn risk", "P(alive)", "last purchase", "spent", "reasons")
    for rank, row in enumerate(page.rows, start=params.offset + 1):
        table.add_row(
            str(rank),
            str(row.contact_id),
            escape(row.name or ""),
            f"{row.churn_risk:.1%}",
            "" if row.p_alive is None else f"{row.p_alive:.1%}",
            "" if row.last_purchase_at is None else f"{row.last_purchase_at:%Y-%m-%d}",
            "" if row.total_value is None else f"{row.total_value:,.2f}",
            escape("; ".join(r["text"] for r in row.reasons[:3])),
        )
    console.print(table)
