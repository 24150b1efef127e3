"""``pulso import orders|spend|contacts|events|conversations FILE --tenant SLUG``: the command group (``pulso.cli``).

Exit codes: 0 when some rows were accepted (or the file had none), 1 when every row was rejected or the import
failed, 2 on usage errors (unknown kind, tenant, column or field; missing file) with a one-line message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from pulso.collect.imports.service import ImportRequest, ImportSummary

import_app = typer.Typer(
    help="Import orders, spend, contacts, events or conversations from CSV, Parquet, JSON Lines or WhatsApp exports.",
    no_args_is_help=True,
)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

HELP = {
    "orders": "Orders or bookings, upserted on order_id; customers found or created by e-mail, phone or user id.",
    "spend": "Campaign spend per channel, campaign and day; a re-import replaces the day's values.",
    "contacts": "Contacts matched by e-mail, phone or user id: created or updated, never duplicated.",
    "events": "Events into bronze raw_events (source 'import'), deduplicated on messageId.",
}


class _RichProgress:
    def __init__(self, progress: Progress, label: str) -> None:
        self._progress, self._label = progress, label
        self._task: Any = None

    def start(self, total: int, unit: str) -> None:
        self._task = self._progress.add_task(f"{self._label} ({unit})", total=total)

    def update(self, done: int) -> None:
        self._progress.update(self._task, completed=done)


def _progress_bar(unit_is_bytes: bool) -> Progress:
    counter = (DownloadColumn(), TransferSpeedColumn()) if unit_is_bytes else (MofNCompleteColumn(),)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        *counter,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _register(kind: str) -> None:
    @import_app.command(kind, help=HELP[kind])
    def command(
        file: Annotated[Path, typer.Argument(help="The CSV or Parquet file.")],
        tenant: Annotated[str, typer.Option(help="Tenant slug.")],
        map_: Annotated[
            list[str] | None, typer.Option("--map", help="COLUMN=FIELD, repeatable, e.g. --map valor=amount.")
        ] = None,
        rejects: Annotated[Path | None, typer.Option(help="Write refused rows, with line and reason, here.")] = None,
        file_format: Annotated[
            str | None, typer.Option("--format", help="csv or parquet (default: from the file name).")
        ] = None,
        delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: sniffed; 'tab' for tabs).")] = None,
        chunk_rows: Annotated[int, typer.Option(help="Rows per transaction.")] = 5000,
        quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
        row_ids: Annotated[
            bool,
            typer.Option(
                "--row-ids", help="Contacts only: a file without email/phone/id columns; each row is FILE_NAME:LINE."
            ),
        ] = False,
    ) -> None:
        from pulso.collect.imports.service import ImportRequest

        options = (("row_ids", "1"),) if row_ids else ()
        request = ImportRequest(
            kind, file, tenant, tuple(map_ or ()), rejects, file_format, delimiter, chunk_rows, options
        )
        _run(request, show_progress=not quiet)


def _run(request: ImportRequest, *, show_progress: bool) -> None:
    from pulso.collect.imports.fields import ImportUsageError
    from pulso.collect.imports.service import run_import

    unit_is_bytes = (request.file_format or "csv") in {
        "csv",
        "jsonl",
        "whatsapp",
    } and request.path.suffix.lower() not in {".parquet", ".pq"}
    try:
        if show_progress:
            with _progress_bar(unit_is_bytes) as progress:
                summary = run_import(request, _RichProgress(progress, f"{request.kind} {request.path.name}"))
        else:
            summary = run_import(request)
    except ImportUsageError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except Exception as exc:
        err.print(f"[bold red]import failed:[/] {type(exc).__name__}: {exc}")
        err.print("rows written before the failure are kept; importing the same file again is safe")
        raise typer.Exit(1) from None
    _print_summary(summary, request)
    if summary.rows_read and not summary.accepted:
        raise typer.Exit(1)


def _print_summary(summary: ImportSummary, request: ImportRequest) -> None:
    table = Table("rows read", "inserted", "updated", "unchanged", "rejected", "seconds", "rows/s")
    counts = summary.counts
    table.add_row(
        *(f"{n:,}" for n in (summary.rows_read, counts.inserted, counts.updated, counts.unchanged, summary.rejected)),
        f"{summary.elapsed_seconds:.2f}",
        f"{summary.rows_per_second:,.0f}",
    )
    console.print(table)
    if summary.ignored_columns:
        names = ", ".join(column if column.strip() else "(unnamed)" for column in summary.ignored_columns)
        console.print(f"ignored columns (no such field; use --map): {names}")
    for reject in summary.first_rejects:
        console.print(f"rejected line {reject.line}: {reject.reason}")
    if summary.rejected:
        where = f"all {summary.rejected:,} in {request.rejects_path}" if request.rejects_path else "use --rejects PATH"
        console.print(f"{summary.rejected:,} rows rejected ({where})")
    if not summary.rows_read:
        console.print("the file has no data rows")
    console.print(f"recorded as job run {summary.job_run_id} (pulso pipeline runs)")


for _kind in HELP:
    _register(_kind)


@import_app.command(
    "conversations",
    help="Messages, one per row, grouped into conversations; re-importing adds nothing, new messages extend.",
)
def conversations_command(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, JSON Lines or a WhatsApp chat export (.txt).")],
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    map_: Annotated[list[str] | None, typer.Option("--map", help="COLUMN=FIELD, repeatable.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write refused rows, with line and reason, here.")] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv, parquet, jsonl or whatsapp (default: from the file name).")
    ] = None,
    inbox: Annotated[str | None, typer.Option(help="Inbox name for rows without one.")] = None,
    channel: Annotated[
        str | None, typer.Option(help="Channel (whatsapp, instagram, ...) for rows without one.")
    ] = None,
    agent: Annotated[
        list[str] | None, typer.Option(help="WhatsApp export: a participant who is the business, repeatable.")
    ] = None,
    business_name: Annotated[str | None, typer.Option(help="WhatsApp export: the business's own name.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: sniffed; 'tab' for tabs).")] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per transaction.")] = 5000,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    from pulso.collect.imports.service import ImportRequest

    options = [("agent", name) for name in [*(agent or ()), *([business_name] if business_name else [])]]
    options += [(name, value) for name, value in (("inbox", inbox), ("channel", channel)) if value]
    request = ImportRequest(
        "conversations", file, tenant, tuple(map_ or ()), rejects, file_format, delimiter, chunk_rows, tuple(options)
    )
    _run(request, show_progress=not quiet)
