"""``pulso train leads|list|activate`` and ``pulso score leads``: lead scoring from the command line.

Each command parses, calls :mod:`pulso.ml.leads.service` or the registry inside the tenant's session, and
prints. Errors exit 2 with one line saying what is wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

train_app = typer.Typer(help="Train and manage models (lead scoring).", no_args_is_help=True)
score_app = typer.Typer(help="Score with the active models.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(2)


@contextmanager
def _tenant(slug: str) -> Iterator[Any]:
    """The tenant's session; expected input errors become one line and exit code 2."""
    from pulso.errors import DomainError
    from pulso.store import platform_session, tenant_session
    from pulso.tenancy.service import get_tenant

    try:
        with platform_session() as session:
            tenant_id = get_tenant(session, slug).id
        with tenant_session(tenant_id) as session:
            yield session
    except (DomainError, LookupError) as exc:
        _fail(str(exc.args[0]) if exc.args else str(exc))


@train_app.command("leads")
def train_leads_command(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    target: Annotated[
        str | None,
        typer.Option(
            help="The conversion column of imported contacts (yes/no, 1/0, ...). Without it: train on the tenant's "
            "activity (conversations, messages, events), converted = became a customer."
        ),
    ] = None,
    exclude: Annotated[
        str, typer.Option(help="Comma-separated columns to leave out, e.g. those known only after the outcome.")
    ] = "",
    time_column: Annotated[
        str | None, typer.Option(help="Column that orders the leads (default first_seen_at, else created_at).")
    ] = None,
    window_days: Annotated[
        float | None, typer.Option(help="Activity: days after a lead's start whose activity counts (default 7).")
    ] = None,
    horizon_days: Annotated[
        float | None, typer.Option(help="Activity: days a lead has to convert (default 90).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (split fallback, folds, LightGBM).")] = 0,
) -> None:
    """Train a lead score on the tenant's activity (or, with --target, on its imported contacts), print its
    validation metrics, save and activate it."""
    if target is None:
        _train_activity(tenant, exclude, time_column, window_days, horizon_days, seed)
        return
    if window_days is not None or horizon_days is not None:
        _fail("--window-days and --horizon-days: only when training on activity (without --target)")
    from pulso.ml.leads.service import train_tenant

    excluded = [name.strip() for name in exclude.split(",") if name.strip()]
    with _tenant(tenant) as session:
        saved = train_tenant(session, target, exclude=excluded, time_column=time_column, random_state=seed)
    _print_training(saved.result.metrics, saved.result.warnings)
    console.print(f"saved {saved.version.kind} {saved.version.version} and made it active", highlight=False)


def _train_activity(
    tenant: str, exclude: str, time_column: str | None, window_days: float | None, horizon_days: float | None, seed: int
) -> None:
    from datetime import timedelta

    from pulso.ml.leads.activity import ActivityParams, train_activity

    if exclude or time_column:
        _fail("--exclude and --time-column: only with --target (training on imported contacts)")
    for option, value in (("--window-days", window_days), ("--horizon-days", horizon_days)):
        if value is not None and not 0 < value <= 3650:
            _fail(f"{option}: more than 0 and at most 3650, got {value:g}")
    defaults = ActivityParams()
    with _tenant(tenant) as session:
        params = ActivityParams(
            timedelta(days=window_days) if window_days is not None else defaults.window,
            timedelta(days=horizon_days) if horizon_days is not None else defaults.horizon,
        )
        saved = train_activity(session, params=params, random_state=seed)
    used = saved.version.params
    console.print(
        f"trained on the activity of {used['leads']:,} leads whose {used['horizon_days']:g}-day horizon is over, "
        f"each seen once, at an age of {', '.join(f'{h:g}' for h in used['landmark_hours'])} hours (drawn per lead) "
        "while still open",
        highlight=False,
    )
    _print_training(saved.result.metrics, saved.result.warnings)
    console.print(f"saved {saved.version.kind} {saved.version.version} (activity) and made it active", highlight=False)


def print_validation(
    metrics: dict[str, Any],
    warnings: list[str],
    *,
    rows: str,
    base_rate: str,
    baselines: Sequence[tuple[str, float]] = (),
    note: str = "",
    calibration_labels: tuple[str, str, str, str] = ("predicted", "leads", "mean predicted", "observed"),
) -> None:
    """A trained binary classifier's split, warnings, candidates, validation metrics and calibration table (lead
    score and churn alike). ``rows`` and ``base_rate`` label the count and rate rows; ``baselines`` are other
    scores' ROC AUC on the same rows, printed after the model's."""
    console.print(metrics["split_note"], highlight=False)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    for column, reason in metrics["dropped_columns"].items():
        console.print(f"not used: {column} ({reason})", highlight=False)
    candidates = ", ".join(f"{name} {auc:.4f}" for name, auc in metrics["candidate_roc_auc"].items())
    console.print(f"validation ROC AUC of the candidates: {candidates}; chosen: {metrics['chosen']}")
    table = Table("validation metric", "value")
    table.add_row(f"{rows} (train / validation)", f"{metrics['train_rows']:,} / {metrics['rows']:,}")
    table.add_row(f"{base_rate} (validation)", f"{metrics['base_rate']:.1%}")
    table.add_row("ROC AUC", f"{metrics['roc_auc']:.4f}")
    for label, auc in baselines:
        table.add_row(label, f"{auc:.4f}")
    table.add_row("PR AUC", f"{metrics['pr_auc']:.4f}")
    table.add_row("Brier score", f"{metrics['brier']:.4f}")
    table.add_row("top-decile lift", f"{metrics['top_decile_lift']:.2f}x")
    table.add_row("calibration", metrics["calibration_method"])
    console.print(table)
    if note:
        console.print(note, highlight=False)
    calibration = Table(*calibration_labels)
    for row in metrics["calibration"]:
        calibration.add_row(
            f"{row['lower']:.1f}-{row['upper']:.1f}",
            f"{row['rows']:,}",
            f"{row['mean_predicted']:.1%}",
            f"{row['observed_rate']:.1%}",
        )
    console.print(calibration)


def _print_training(metrics: dict[str, Any], warnings: list[str]) -> None:
    print_validation(metrics, warnings, rows="leads", base_rate="conversion rate")
    grades = metrics["grades"]
    table = Table("grade", "leads (validation)", "converted")
    for grade, name in (("A", "Alto"), ("B", "Médio"), ("C", "Baixo")):
        row = grades["validation"][grade]
        table.add_row(f"{grade} ({name})", f"{row['rows']:,}", "" if row["rate"] is None else f"{row['rate']:.1%}")
    console.print(table)
    console.print(f"grades: {grades['rule']}", highlight=False)
    cuts = metrics["quartile_cuts"]
    console.print(f"quartile tiers: 1 >= {cuts[0]:.1%} > 2 >= {cuts[1]:.1%} > 3 >= {cuts[2]:.1%} > 4")


KINDS = ("lead_score", "churn", "clv")
KindOption = Annotated[str, typer.Option(help="Which model: lead_score, churn or clv.")]


def _kind(kind: str) -> str:
    if kind not in KINDS:
        _fail(f"--kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


@train_app.command("list")
def train_list(tenant: Annotated[str, typer.Option(help="Tenant slug.")], kind: KindOption = "lead_score") -> None:
    """The tenant's versions of one kind of model, with their validation metrics; * marks the active one."""
    from pulso.ml.leads.registry import list_versions

    kind = _kind(kind)
    with _tenant(tenant) as session:
        versions = list_versions(session, kind)
    table = Table("", "version", "created (UTC)", "target", "model", "ROC AUC", "PR AUC", "Brier", "split", "code")
    for v in versions:
        m = v.metrics
        table.add_row(
            "*" if v.is_active else "",
            v.version,
            f"{v.created_at:%Y-%m-%d %H:%M}",
            "activity" if v.params.get("source") == "activity" else str(v.params.get("target", "")),
            str(m.get("chosen", "")),
            f"{m.get('roc_auc', float('nan')):.4f}",
            f"{m.get('pr_auc', float('nan')):.4f}",
            f"{m.get('brier', float('nan')):.4f}",
            str(m.get("split", "")),
            v.code_version,
        )
    console.print(table)
    if not versions:
        console.print(f"no {kind} versions yet: {HOW_TO_TRAIN[kind]}")


HOW_TO_TRAIN = {
    "lead_score": "pulso train leads --tenant SLUG [--target COLUMN]",
    "churn": "pulso train churn --tenant SLUG",
    "clv": "the daily job gold.customer_value (pulso pipeline run --job gold.customer_value)",
}


@train_app.command("activate")
def train_activate(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    version: Annotated[str, typer.Option(help="The version to use, e.g. v1 (rollback to an earlier one).")],
    kind: KindOption = "lead_score",
) -> None:
    """Make VERSION the active model of its kind (lead score by default)."""
    from pulso.ml.leads.registry import activate_version

    kind = _kind(kind)
    with _tenant(tenant) as session:
        row = activate_version(session, version, kind=kind)
    auc = row.metrics.get("roc_auc")
    console.print(f"active {kind} model: {row.version}" + (f" (ROC AUC {auc:.4f})" if auc is not None else ""))


@score_app.command("leads")
def score_leads(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    open_only: Annotated[bool, typer.Option(help="Only contacts whose target is blank (open leads).")] = False,
) -> None:
    """Score with the active model, one lead_scores row each with reasons: every open lead for an activity model,
    the tenant's contacts for one trained on imported contacts."""
    from pulso.ml.leads.activity import is_activity, score_open_leads
    from pulso.ml.leads.registry import active_version
    from pulso.ml.leads.service import score_tenant

    with _tenant(tenant) as session:
        activity = is_activity(active_version(session))
        run = score_open_leads(session) if activity else score_tenant(session, open_only=open_only)
    counts = ", ".join(f"{grade} {n:,}" for grade, n in run.grades.items())
    scored = "open leads" if activity else "contacts"
    console.print(f"scored {run.scored:,} {scored} with lead_score {run.version.version} ({counts})", highlight=False)
