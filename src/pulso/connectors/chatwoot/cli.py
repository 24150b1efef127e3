"""``pulso sources add chatwoot|list|remove|rotate-webhook``: configuring where a tenant's data comes from.

Errors exit 2 with one clear line (``pulso.cli.user_errors``, imported when a command runs: ``pulso.cli``
imports this module to register it). Secrets are never printed; the webhook token only once, when created.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pulso.config import get_settings
from pulso.connectors.chatwoot.source import (
    MIN_SCHEMA_VERSION,
    REQUIRED_COLUMNS,
    TESTED_SCHEMA_VERSION,
    add_chatwoot_source,
    list_sources,
    remove_chatwoot_source,
    rotate_webhook_token,
    webhook_path,
)

sources_app = typer.Typer(help="Data sources of a tenant (Chatwoot databases).", no_args_is_help=True)
add_app = typer.Typer(help="Add a source.", no_args_is_help=True)
sources_app.add_typer(add_app, name="add")
console = Console(width=None if sys.stdout.isatty() else 160)


@contextmanager
def _user_errors() -> Iterator[None]:
    from pulso.cli import user_errors

    with user_errors():
        yield


def _webhook_url(token: str) -> str:
    settings = get_settings()
    return f"http://{settings.host}:{settings.port}{webhook_path(token)}"


def _print_webhook(token: str, tenant: str, name: str) -> None:
    console.print("webhook URL (shown only now; add it in Chatwoot under Settings > Integrations > Webhooks):")
    console.print(_webhook_url(token), soft_wrap=True, highlight=False)
    rotate = f"pulso sources rotate-webhook --tenant {tenant} --name {name}"
    console.print(f"lost it? `{escape(rotate)}` makes a new one and retires this one.", highlight=False)


@add_app.command("chatwoot")
def add_chatwoot(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    dsn: Annotated[str, typer.Option(help="Read-only PostgreSQL URL of the Chatwoot database.")],
    account_id: Annotated[int, typer.Option(help="Chatwoot account id (one account per tenant).")],
    inbox: Annotated[list[int] | None, typer.Option(help="Only this inbox id (repeatable); default all.")] = None,
    name: Annotated[str | None, typer.Option(help="Source name; default chatwoot-<account id>.")] = None,
) -> None:
    """Check a Chatwoot database and add it as the tenant's source; prints the webhook URL once."""
    with _user_errors():
        added = add_chatwoot_source(tenant, dsn, account_id, inbox or (), name)
    inspection = added.inspection
    inboxes = ", ".join(f"{i} {n!r}" for i, n in inspection.inboxes.items()) or "none yet"
    checks = [
        "connected with a read-only transaction",
        f"Chatwoot schema {inspection.schema_version} (needs >= {MIN_SCHEMA_VERSION}, tested {TESTED_SCHEMA_VERSION})",
        f"{len(REQUIRED_COLUMNS)} tables with the required columns, readable",
        f"account {inspection.account_id} {inspection.account_name!r}",
        f"inboxes: {inboxes}" + ("" if inbox else " (all of the account's)"),
    ]
    for check in checks:
        console.print(f"[green]ok[/] {escape(check)}", highlight=False)
    for warning in inspection.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    console.print(f"added source {added.name!r} (id {added.source_id}) to tenant {tenant}", highlight=False)
    _print_webhook(added.webhook_token, tenant, added.name)


@sources_app.command("list")
def sources_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None) -> None:
    """List sources with their account, inboxes and masked DSN (never a secret)."""
    with _user_errors():
        sources = list_sources(tenant)
    table = Table("kind", "name", "tenant", "account", "inboxes", "dsn", "last synced (UTC)", "last error")
    for s in sources:
        table.add_row(
            s.kind + ("" if s.is_active else " (inactive)"),
            s.name,
            s.tenant_slug,
            str(s.account_id) if s.account_id is not None else "",
            ", ".join(map(str, s.inbox_ids)) or "all",
            escape(s.dsn_display),
            f"{s.last_synced_at:%Y-%m-%d %H:%M:%S}" if s.last_synced_at else "never",
            escape((s.last_error or "").splitlines()[0]) if s.last_error else "",
        )
    console.print(table)
    console.print(f"{len(sources)} source(s)")


@sources_app.command("remove")
def sources_remove(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="Source name.")],
) -> None:
    """Remove a Chatwoot source and its stored credential; data already synced stays."""
    with _user_errors():
        remove_chatwoot_source(tenant, name)
    console.print(f"removed source {name!r} from tenant {tenant}", highlight=False)


@sources_app.command("rotate-webhook")
def sources_rotate_webhook(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="Source name.")],
) -> None:
    """Make a new webhook URL; the old one stops working at once."""
    with _user_errors():
        token = rotate_webhook_token(tenant, name)
    _print_webhook(token, tenant, name)
