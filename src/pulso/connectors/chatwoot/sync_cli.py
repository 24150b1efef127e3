"""``pulso sync chatwoot --tenant SLUG [--full]``: run a Chatwoot sync by hand, with a progress bar."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

sync_app = typer.Typer(help="Bring data in from configured sources now.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)


@sync_app.command("chatwoot")
def sync_chatwoot(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    full: Annotated[bool, typer.Option("--full", help="Read everything again instead of the changes.")] = False,
    source: Annotated[str | None, typer.Option(help="Source name (default: the tenant's Chatwoot source).")] = None,
) -> None:
    """Sync the tenant's Chatwoot source now (the worker also does it every 30 minutes)."""
    from pulso.cli import fail, user_errors
    from pulso.connectors.chatwoot.sync import source_configs, sync_tenant
    from pulso.pipeline.runner import active_tenants

    with user_errors():
        tenant_id = active_tenants(tenant)[0][0]
        if not source_configs(tenant_id, source):
            fail(f"tenant: {tenant!r} has no active Chatwoot source; add one with `pulso sources add chatwoot`")
        with Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stream: str, done: int, total: int | None) -> None:
                if stream not in tasks:
                    tasks[stream] = bar.add_task(stream, total=total)
                bar.update(tasks[stream], completed=done)

            results = sync_tenant(tenant_id, full=full, progress=progress, name=source)
    for result in results:
        table = Table(title=f"{result.source}: {result.mode} sync in {result.seconds:.1f}s")
        for column in ("stream", "written", "skipped", "seconds"):
            table.add_column(column, justify="left" if column == "stream" else "right")
        for stream, written in result.stats.written.items():
            seconds = result.seconds_by_stream.get(stream)
            shown = f"{seconds:.1f}" if seconds is not None else ""
            table.add_row(stream, str(written), str(result.stats.skipped.get(stream, 0)), shown)
        console.print(table)
        console.print(f"status changes recorded: {result.status_changes}")
        if result.swept:
            deleted = ", ".join(f"{k} {v}" for k, v in result.deleted.items())
            console.print(f"reconciliation sweep done; removed what Chatwoot deleted: {deleted}")
