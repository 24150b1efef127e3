"""``pulso chatwoot agreement --tenant SLUG``: how often Pulso's facts agree with Chatwoot's reports (``pulso.cli``)."""

from __future__ import annotations

from typing import Annotated

import typer

chatwoot_app = typer.Typer(help="Chatwoot connector: compare Pulso's numbers with Chatwoot's.", no_args_is_help=True)


@chatwoot_app.callback()
def _group() -> None:
    """Chatwoot connector commands."""


@chatwoot_app.command("agreement")
def agreement(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """Print, per metric, how many conversations agree with Chatwoot's reporting_events (a Markdown table)."""
    from pulso.connectors.chatwoot.agreement import agreement_report
    from pulso.errors import DomainError
    from pulso.store.session import platform_session, tenant_session
    from pulso.tenancy.service import get_tenant

    try:
        with platform_session() as session:
            tenant_id = get_tenant(session, tenant).id
    except DomainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    with tenant_session(tenant_id) as session:
        report = agreement_report(session)
    typer.echo(report.to_markdown(), nl=False)
