"""The ``pulso`` command. Each subcommand parses, calls a service, prints; errors exit 2 with a clear message."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pulso.collect.imports.command import import_app
from pulso.config import get_settings
from pulso.connectors.chatwoot.agreement_cli import chatwoot_app
from pulso.connectors.chatwoot.cli import sources_app
from pulso.connectors.chatwoot.sync_cli import sync_app
from pulso.ml.churn import cli as churn_cli  # noqa: F401  (registers pulso train churn, pulso score churn)
from pulso.ml.clv.cli import clv_app
from pulso.ml.leads.cli import score_app, train_app

app = typer.Typer(
    help="Pulso: customer intelligence from events, conversations, orders and spend.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Platform administration.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (client companies).", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard logins.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo tenants with realistic data and planted effects.", no_args_is_help=True)
pipeline_app = typer.Typer(help="Pipeline jobs (bronze -> silver -> gold).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
admin_app.add_typer(tenants_app, name="tenants")
admin_app.add_typer(users_app, name="users")
keys_app = typer.Typer(help="API keys (write keys for the /v1 collector, read keys for /api/v1).", no_args_is_help=True)
admin_app.add_typer(keys_app, name="keys")
quarantine_app = typer.Typer(help="Rejected payloads: list and replay.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(demo_app, name="demo")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(import_app, name="import")  # pulso import orders|spend|contacts|events (pulso.collect.imports)
app.add_typer(sources_app, name="sources")  # pulso sources add chatwoot|list|remove|rotate-webhook
app.add_typer(sync_app, name="sync")  # pulso sync chatwoot --tenant SLUG [--full]
app.add_typer(chatwoot_app, name="chatwoot")  # pulso chatwoot agreement (pulso.connectors.chatwoot)
app.add_typer(clv_app, name="clv")  # pulso clv fit FILE --customer COL --date COL (pulso.ml.clv)
app.add_typer(train_app, name="train")  # pulso train leads|list|activate (pulso.ml.leads)
app.add_typer(score_app, name="score")  # pulso score leads (pulso.ml.leads)

console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DEMO_PASSWORD = "pulso-demo"  # noqa: S105 - the documented password of the demo logins


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected input errors into one clear line and exit code 2."""
    from pulso.errors import DomainError

    try:
        yield
    except (DomainError, LookupError) as exc:
        fail(exc.args[0] if exc.args else str(exc))


def parse_day(value: str | None, option: str = "--since") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date like 2026-01-31")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the latest schema (runs as the owner: PULSO_ADMIN_DATABASE_URL)."""
    from pulso.store import migrate

    migrate.upgrade(revision=revision)
    console.print(f"database at {revision}: {_safe_url(get_settings().resolved_admin_database_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base.")) -> None:
    """Undo migrations down to REVISION."""
    from pulso.store import migrate

    migrate.downgrade(revision=revision)
    console.print(f"database downgraded to {revision}")


@db_app.command("check")
def db_check() -> None:
    """Fail if the tables in code and the migrations disagree."""
    from alembic.util.exc import CommandError

    from pulso.store import migrate

    try:
        migrate.check()
    except CommandError as exc:
        fail(str(exc))
    console.print("models and migrations agree")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- admin


@tenants_app.command("create")
def tenants_create(
    slug: Annotated[str, typer.Option(help="Short lowercase name used in URLs, e.g. sorriso.")],
    name: Annotated[str, typer.Option(help="The company's display name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone for day boundaries.")] = "America/Sao_Paulo",
) -> None:
    """Create a tenant."""
    from pulso.store import platform_session
    from pulso.tenancy.service import create_tenant

    with user_errors(), platform_session() as session:
        tenant = create_tenant(session, slug=slug, name=name, timezone=timezone)
        console.print(f"created tenant {tenant.slug} (id {tenant.id}, {tenant.timezone})")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants with their user counts."""
    from pulso.store import platform_session
    from pulso.tenancy.service import list_tenants

    with platform_session() as session:
        tenants = list_tenants(session)
    table = Table("id", "slug", "name", "timezone", "users")
    for t in tenants:
        table.add_row(str(t.id), t.slug, t.name, t.timezone, str(t.users))
    console.print(table)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    role: Annotated[
        str, typer.Option(help="admin, manager, marketing, sales, support, analyst, viewer or platform_admin.")
    ],
    tenant: Annotated[str | None, typer.Option(help="Tenant slug; omit only for platform_admin.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    generate_password: Annotated[bool, typer.Option(help="Generate and print a password instead of asking.")] = False,
) -> None:
    """Create a dashboard login. Asks for the password (or generates one when not at a terminal)."""
    from pulso.security.passwords import generate_password as make_password
    from pulso.store import platform_session
    from pulso.tenancy.service import create_user, get_tenant

    generated = generate_password or not sys.stdin.isatty()
    password = make_password() if generated else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with user_errors(), platform_session() as session:
        owner = get_tenant(session, tenant) if tenant else None
        user = create_user(session, email=email, role=role, password=password, tenant=owner, name=name)
        console.print(f"created user {user.email} ({user.role}{', ' + owner.slug if owner else ''})")
    if generated:
        console.print(f"password: {password}")


# ---------------------------------------------------------------- demo


@demo_app.command("seed")
def demo_seed(
    size: Annotated[
        str, typer.Option(help="small (seconds), medium or large (>= 1M events, for benchmarks).")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    end_date: Annotated[str | None, typer.Option(help="First day without data (YYYY-MM-DD); default today.")] = None,
) -> None:
    """(Re)create the demo tenants sorriso and insightos and the demo logins (migrating the database first)."""
    db_upgrade()
    _seed(size, seed, parse_day(end_date, "--end-date"))
    _print_logins()


def _seed(size: str, seed: int, end_date: date | None) -> None:
    from pulso.demo import seed_demo

    if size not in {"small", "medium", "large"}:
        fail(f"--size: {size!r} is not one of small, medium, large")
    if seed < 0:
        fail(f"--seed: must be a non-negative integer, got {seed}")
    summary = seed_demo(size=size, seed=seed, end_date=end_date, progress=True)
    tables = sorted({name for rows in summary.tenants.values() for name in rows})
    table = Table("table", *summary.tenants)
    for name in tables:
        table.add_row(name, *(f"{rows.get(name, 0):,}" for rows in summary.tenants.values()))
    console.print(table)
    last_day = summary.end_date - timedelta(days=1)
    console.print(f"{summary.total_rows:,} rows in {summary.elapsed_seconds:.1f}s; history ends on {last_day}")


@demo_app.command("verify")
def demo_verify() -> None:
    """Measure the planted effects in the seeded demo data (true values: docs/demo-data.md)."""
    from pulso.demo.verify import measure_effects

    with user_errors():
        report = measure_effects()
    table = Table("effect", "realized")
    table.add_row("LTV google_gestao_agil / others", f"{report.ltv_ratio:.2f}x")
    table.add_row("largest funnel drop", " -> ".join(report.largest_drop))
    for step, rate in report.funnel_step_conversion.items():
        table.add_row(f"  step {step}", f"{rate:.1%}")
    for agent, p95 in sorted(report.first_response_p95_seconds.items()):
        table.add_row(f"P95 first response, {agent}", f"{p95:,.0f} s")
    table.add_row("weekday multipliers Mon..Sun, sorriso", " ".join(f"{m:.2f}" for m in report.sorriso_weekday))
    table.add_row("weekday multipliers Mon..Sun, insightos", " ".join(f"{m:.2f}" for m in report.insightos_weekday))
    for label, day in (("sorriso spike", report.sorriso_anomaly), ("insightos outage", report.insightos_anomaly)):
        table.add_row(label, f"{day.day}: {day.ratio_to_mean:.2f}x the mean day")
    fit = report.lead_conversion
    table.add_row("lead conversion intercept", f"{fit.intercept:+.2f} (se {fit.intercept_standard_error:.2f})")
    for name, value in fit.coefficients.items():
        table.add_row(f"  coefficient {name}", f"{value:+.2f} (se {fit.standard_errors[name]:.2f})")
    console.print(table)


@demo_app.command("up")
def demo_up(
    size: Annotated[str, typer.Option(help="Demo size.")] = "small",
    host: Annotated[str | None, typer.Option(help="Interface to serve on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Everything `make demo` does: migrate, seed, run the pipeline, serve and print where to log in."""
    db_upgrade()
    _seed(size, 42, None)
    pipeline_run(tenant=None, since=None, job=None)
    _serve(host, port, banner=_print_logins)


@demo_app.command("chatwoot")
def demo_chatwoot(
    admin_url: Annotated[
        str,
        typer.Option(
            envvar="PULSO_DEMO_CHATWOOT_ADMIN_URL",
            help="PostgreSQL server (any database on it) where the Chatwoot fixture database is created.",
        ),
    ] = "postgresql://postgres@127.0.0.1:5432/postgres",
    conversations: Annotated[int, typer.Option(help="Conversations generated on top of the scenario.")] = 2000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")] = True,
    host: Annotated[str | None, typer.Option(help="Interface to serve on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """The demo with a Chatwoot database as its source: tenant chatwoot-demo, synced and run through the pipeline."""
    from rich.markup import escape
    from sqlalchemy.exc import ArgumentError

    from pulso.connectors.chatwoot.agreement import agreement_report
    from pulso.demo.chatwoot import DATABASE, postgres_problem, run_chatwoot_demo
    from pulso.store import tenant_session

    if conversations < 0:
        fail(f"--conversations: must be zero or more, got {conversations}")
    try:
        shown_url = _safe_url(admin_url)
    except (ArgumentError, ValueError):
        shown_url = ""
    if not shown_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        fail("--admin-url: expected a PostgreSQL URL like postgresql://USER:PASSWORD@HOST:5432/postgres")
    problem = postgres_problem(admin_url)
    if problem is not None:
        fail(
            f"no PostgreSQL answers at {escape(f'{shown_url}: {problem}')}\n"
            f"The Chatwoot demo needs a PostgreSQL server to hold the Chatwoot database ({DATABASE}); Pulso's own "
            "store stays where it is. Start one, or point at one with --admin-url "
            "postgresql://USER:PASSWORD@HOST:5432/postgres (or PULSO_DEMO_CHATWOOT_ADMIN_URL); the user must be "
            "allowed to create databases. `pulso demo up` needs no PostgreSQL."
        )
    db_upgrade()
    with user_errors():
        demo = run_chatwoot_demo(admin_url, conversations=conversations, database=DATABASE, report=console.print)
    table = Table("rows", "in Chatwoot (account 1)", "synced", "in Pulso")
    for name, stored_name in (
        ("contacts", "contacts"),
        ("conversations", "conversations"),
        ("messages", "messages"),
        ("reporting_events", "source_reporting_events"),
    ):
        table.add_row(
            name, f"{demo.chatwoot_rows[name]:,}", f"{demo.synced.get(name, 0):,}", f"{demo.stored[stored_name]:,}"
        )
    table.add_row("conversation_facts", "", "", f"{demo.stored['conversation_facts']:,}")
    table.add_row("daily_metrics", "", "", f"{demo.stored['daily_metrics']:,}")
    console.print(table)
    for run in demo.failed_jobs:
        err.print(f"[bold red]job {run.job} failed:[/] {run.error}")
    with tenant_session(demo.tenant_id) as session:
        console.print(agreement_report(session).to_markdown(), highlight=False, markup=False)
    console.print(f"Chatwoot database: {demo.dsn} (account 1); done in {demo.seconds:.1f}s", highlight=False)
    if demo.failed_jobs:
        raise typer.Exit(1)

    def banner() -> None:
        settings = get_settings()
        console.print(f"\n[bold]Pulso Chatwoot demo[/] on http://{settings.host}:{settings.port}")
        table = Table("login", "password", "sees")
        table.add_row(demo.login, demo.password, "Clínica Sorriso (Chatwoot) (tenant admin)")
        table.add_row("super@pulso.demo", DEMO_PASSWORD, "every tenant (platform admin)")
        console.print(table)
        webhook = f"http://{settings.host}:{settings.port}{demo.webhook_path}"
        console.print(f"webhook URL of the source (shown only now): {webhook}", soft_wrap=True, highlight=False)

    if serve_after:
        _serve(host, port, banner=banner)
    else:
        banner()


def _print_logins() -> None:
    settings = get_settings()
    console.print(f"\n[bold]Pulso demo[/] on http://{settings.host}:{settings.port}")
    table = Table("login", "password", "sees")
    table.add_row("owner@sorriso.demo", DEMO_PASSWORD, "Clínica Sorriso (tenant admin)")
    table.add_row("owner@insightos.demo", DEMO_PASSWORD, "InsightOS (tenant admin)")
    table.add_row("super@pulso.demo", DEMO_PASSWORD, "every tenant (platform admin)")
    console.print(table)


# ---------------------------------------------------------------- pipeline and worker


@pipeline_app.command("run")
def pipeline_run(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
    since: Annotated[str | None, typer.Option(help="Recompute from this local date (YYYY-MM-DD).")] = None,
    job: Annotated[list[str] | None, typer.Option(help="Only these jobs (repeatable).")] = None,
) -> None:
    """Run the pipeline jobs; every run is recorded in job_runs."""
    from pulso.pipeline.runner import run_pipeline

    with user_errors():
        results = run_pipeline(tenant_slug=tenant, since=parse_day(since), job_names=job)
    table = Table("tenant", "job", "status", "rows", "seconds", "error")
    for r in results:
        colour = "green" if r.status == "succeeded" else "red"
        table.add_row(r.tenant_slug, r.job, f"[{colour}]{r.status}[/]", str(r.rows), f"{r.seconds:.2f}", r.error or "")
    console.print(table)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@pipeline_app.command("runs")
def pipeline_runs(limit: int = 20) -> None:
    """The most recent job runs."""
    from pulso.pipeline.runner import recent_runs

    slugs = _tenant_slugs()
    table = Table("id", "tenant", "job", "status", "started (UTC)", "seconds", "rows", "error")
    for r in recent_runs(limit):
        table.add_row(
            str(r.id),
            slugs.get(r.tenant_id, str(r.tenant_id)) if r.tenant_id else "-",
            r.job,
            r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{r.duration_seconds:.2f}" if r.duration_seconds is not None else "",
            str(r.rows or 0),
            (r.error or "").splitlines()[0] if r.error else "",
        )
    console.print(table)


@app.command()
def worker() -> None:
    """Run registered jobs on their schedules until stopped (Ctrl-C)."""
    from pulso.pipeline.worker import run_worker

    logging.getLogger().setLevel(logging.INFO)
    run_worker()


# ---------------------------------------------------------------- keys and quarantine (collector)


def _tenant_id(slug: str) -> int:
    from pulso.store import platform_session
    from pulso.tenancy.service import get_tenant

    with user_errors(), platform_session() as session:
        return get_tenant(session, slug).id


def _tenant_slugs() -> dict[int, str]:
    from pulso.store import platform_session
    from pulso.tenancy.service import list_tenants

    with platform_session() as session:
        return {t.id: t.slug for t in list_tenants(session)}


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    kind: Annotated[str, typer.Option(help="write (collector), read or admin.")] = "write",
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'website'.")] = "",
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from pulso.security.api_keys import create_key
    from pulso.store import tenant_session

    tenant_id = _tenant_id(tenant)
    with user_errors(), tenant_session(tenant_id) as session:
        row, plain = create_key(session, tenant_id=tenant_id, kind=kind, name=name)
    console.print(f"created {row.kind} key {row.id} ({row.prefix}...) for {tenant}; it is shown only now:")
    console.print(plain, soft_wrap=True, highlight=False)


@keys_app.command("list")
def keys_list(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """List a tenant's keys (prefixes only)."""
    from pulso.security.api_keys import list_keys
    from pulso.store import tenant_session

    tenant_id = _tenant_id(tenant)
    with tenant_session(tenant_id) as session:
        keys = list_keys(session, tenant_id)
    table = Table("id", "kind", "name", "prefix", "created", "revoked")
    for k in keys:
        created = f"{k.created_at:%Y-%m-%d %H:%M}" if k.created_at else ""
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        table.add_row(str(k.id), k.kind, k.name, k.prefix, created, revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id or display prefix.")]) -> None:
    """Revoke a key; running servers stop accepting it within 30 s (their key cache)."""
    from pulso.security.api_keys import CACHE_TTL_SECONDS, revoke_key
    from pulso.store import platform_session

    with user_errors(), platform_session() as session:
        row = revoke_key(session, key)
    console.print(f"revoked key {row.id} ({row.prefix}...); servers refuse it within {CACHE_TTL_SECONDS:.0f} s")


@quarantine_app.command("list")
def quarantine_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 50,
) -> None:
    """Unresolved rejected payloads with the reason and where they failed."""
    from pulso.collect.quarantine import list_quarantine

    rows = list_quarantine(_tenant_id(tenant) if tenant else None, limit)
    slugs = _tenant_slugs()
    table = Table("id", "tenant", "received", "location", "reason", "raw")
    for r in rows:
        raw = r.raw if len(r.raw) <= 60 else r.raw[:57] + "..."
        received = f"{r.received_at:%Y-%m-%d %H:%M:%S}"
        table.add_row(str(r.id), slugs.get(r.tenant_id, str(r.tenant_id)), received, r.location, r.reason, raw)
    console.print(table)
    console.print(f"{len(rows)} unresolved row(s)")


@quarantine_app.command("replay")
def quarantine_replay(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="Only these quarantine ids (repeatable).")] = None,
) -> None:
    """Re-validate quarantined payloads; those that now pass move into bronze."""
    from pulso.collect.quarantine import replay

    outcomes = replay(_tenant_id(tenant) if tenant else None, ids or [])
    for o in outcomes:
        if o.replayed:
            console.print(f"{o.quarantine_id}: replayed, {o.events} event(s) stored")
        else:
            console.print(f"{o.quarantine_id}: still fails: {o.reason}", highlight=False)
    done = sum(o.replayed for o in outcomes)
    console.print(f"replayed {done}, still failing {len(outcomes) - done}")


# ---------------------------------------------------------------- serve


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default PULSO_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PULSO_PORT, 8000).")] = None,
) -> None:
    """Serve the dashboard and API."""
    _serve(host, port)


def _serve(host: str | None, port: int | None, banner: Callable[[], None] | None = None) -> None:
    import uvicorn

    from pulso.api.app import create_app
    from pulso.store.engine import app_engine, role_problems

    settings = get_settings()
    problems = settings.production_problems() + role_problems(app_engine(settings))
    if problems and settings.env == "production":
        fail("refusing to serve in production:\n  - " + "\n  - ".join(problems))
    for problem in problems:
        err.print(f"[yellow]warning:[/] {problem}")
    settings.session_secret()  # generated and stored on first run
    host, port = host or settings.host, port or settings.port
    settings.host, settings.port = host, port
    if banner is not None:
        banner()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
