"""Running one import: check the request, stream the file in chunks, validate, upsert, record the run.

Each chunk is validated row by row (a bad row goes to the rejects file, never aborts the import) and its good
rows are written in one tenant transaction, so memory stays flat whatever the file size and a crash loses at
most the chunk in flight (importing again is idempotent). The run is recorded in ``job_runs`` as job
``import.<kind>`` with the file, options and counts, through the platform session like every other job.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pulso.collect.imports import contacts, conversation_files, conversations, events, orders, spend
from pulso.collect.imports.contact_book import IDENTITY_FIELDS
from pulso.collect.imports.fields import (
    ColumnPlan,
    FieldError,
    ImportUsageError,
    KindSpec,
    ParseContext,
    Record,
    parse_map_options,
    plan_columns,
)
from pulso.collect.imports.fields import validate as validate_row
from pulso.collect.imports.rejects import Reject, RejectsWriter
from pulso.collect.imports.sources import SourceFile, open_source
from pulso.collect.imports.upsert import Counts
from pulso.store.models import JobRun, Tenant
from pulso.store.session import PulsoSession, platform_session, tenant_session
from pulso.store.types import utcnow


class KindModule(Protocol):
    """What a kind's module provides: its fields and how to write a chunk of valid records."""

    SPEC: KindSpec

    def write(self, session: PulsoSession, rows: Sequence[tuple[int, Record]], context: ParseContext) -> Counts: ...


KINDS: dict[str, KindModule] = {"orders": orders, "spend": spend, "contacts": contacts, "events": events}
KINDS["conversations"] = conversations
FORMATS = ("csv", "parquet", *conversation_files.FORMATS)
DEFAULT_CHUNK_ROWS = 5000
SHOWN_REJECTS = 5
ROW_ID_COLUMN = "(row id)"  # contacts --row-ids: a synthetic column holding FILE_NAME:LINE, mapped to user_id
STRUCTURAL_PROBLEMS = ("__width__", "__encoding__")  # set by the CSV reader on rows it could not read cleanly


class ProgressSink(Protocol):
    def start(self, total: int, unit: str) -> None: ...

    def update(self, done: int) -> None: ...


class _NoProgress:
    def start(self, total: int, unit: str) -> None:
        pass

    def update(self, done: int) -> None:
        pass


@dataclass(frozen=True)
class ImportRequest:
    kind: str
    path: Path
    tenant_slug: str
    map_options: Sequence[str] = ()
    rejects_path: Path | None = None
    file_format: str | None = None
    delimiter: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    options: tuple[tuple[str, str], ...] = ()  # kind-specific (conversations: agent, inbox, channel)


@dataclass
class ImportSummary:
    kind: str
    rows_read: int = 0
    counts: Counts = field(default_factory=Counts)
    rejected: int = 0
    elapsed_seconds: float = 0.0
    ignored_columns: list[str] = field(default_factory=list)
    first_rejects: list[Reject] = field(default_factory=list)
    job_run_id: int | None = None

    @property
    def accepted(self) -> int:
        return self.counts.inserted + self.counts.updated + self.counts.unchanged

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "inserted": self.counts.inserted,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "rejected": self.rejected,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


def run_import(request: ImportRequest, progress: ProgressSink | None = None) -> ImportSummary:
    """Import one file for one tenant. Raises :class:`ImportUsageError` before writing anything if it cannot."""
    kind_module, tenant_id, context = _check(request)
    if request.kind == "conversations":
        source = conversation_files.open_source(request, _delimiter(request.delimiter))
    else:
        source = open_source(request.path, request.file_format, _delimiter(request.delimiter))
    try:
        plan = _plan(request, kind_module, source.header)
        summary = ImportSummary(request.kind, ignored_columns=plan.ignored)
        try:
            rejects = RejectsWriter(request.rejects_path, source.header)
        except OSError as exc:
            raise ImportUsageError(f"--rejects: cannot write {request.rejects_path} ({exc.strerror})") from None
        run_id = _start_run(tenant_id, request)
        summary.job_run_id = run_id
        context = ParseContext(context.zone, context.currency, batch_id=f"import-{run_id}")
        started = time.perf_counter()
        try:
            _stream(source, request, plan, kind_module, tenant_id, context, rejects, summary, progress or _NoProgress())
        except BaseException as exc:
            summary.elapsed_seconds = time.perf_counter() - started
            _finish_run(run_id, summary, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
            raise
        finally:
            rejects.close()
        summary.elapsed_seconds = time.perf_counter() - started
        _finish_run(run_id, summary, None)
        return summary
    finally:
        source.close()


def _stream(
    source: SourceFile,
    request: ImportRequest,
    plan: ColumnPlan,
    kind_module: KindModule,
    tenant_id: int,
    context: ParseContext,
    rejects: RejectsWriter,
    summary: ImportSummary,
    progress: ProgressSink,
) -> None:
    progress.start(source.total, source.unit)
    row_ids = ROW_ID_COLUMN in plan.by_field.values()
    for chunk in source.chunks(request.chunk_rows, progress.update):
        good = []
        for row in chunk:
            summary.rows_read += 1
            problems = [FieldError("(row)", row.values.pop(k)) for k in STRUCTURAL_PROBLEMS if k in row.values]
            if row_ids:
                row.values[ROW_ID_COLUMN] = f"{request.path.name}:{row.line}"
            outcome = problems or validate_row(kind_module.SPEC, plan, row.values, context)
            if isinstance(outcome, dict):
                good.append((row.line, outcome))
                continue
            reject = Reject(row.line, tuple(outcome))
            summary.rejected += 1
            if len(summary.first_rejects) < SHOWN_REJECTS:
                summary.first_rejects.append(reject)
            rejects.write(reject, row.values)
        if good:
            with tenant_session(tenant_id) as session:
                summary.counts.add(kind_module.write(session, good, context))


def _plan(request: ImportRequest, kind_module: KindModule, header: Sequence[str]) -> ColumnPlan:
    """The column plan; contacts also need an identity column (or ``--row-ids``), checked before any row."""
    mapping = parse_map_options(request.map_options)
    row_ids = ("row_ids", "1") in request.options
    if row_ids:
        if request.kind != "contacts":
            raise ImportUsageError("--row-ids: only for contacts")
        if "user_id" in mapping.values():
            raise ImportUsageError("--row-ids: the file already maps a column to user_id; use one or the other")
        header, mapping = [*header, ROW_ID_COLUMN], {**mapping, ROW_ID_COLUMN: "user_id"}
    plan = plan_columns(kind_module.SPEC, header, mapping)
    if request.kind == "contacts" and not set(IDENTITY_FIELDS) & set(plan.by_field):
        columns = ", ".join(repr(c) for c in header[:12]) + (", ..." if len(header) > 12 else "")
        raise ImportUsageError(
            f"contacts: {request.path.name} has no email, phone or user_id column (columns: {columns}); "
            "name the column that identifies a person with --map COLUMN=user_id, or pass --row-ids to identify "
            "each row by the file name and line (re-importing the same file then updates instead of duplicating)"
        )
    return plan


def _check(request: ImportRequest) -> tuple[KindModule, int, ParseContext]:
    if request.kind not in KINDS:
        raise ImportUsageError(f"kind: {request.kind!r} is not one of {', '.join(KINDS)}")
    if not request.path.is_file():
        raise ImportUsageError(f"file: {request.path} does not exist or is not a file")
    if request.file_format is not None and request.file_format not in FORMATS:
        raise ImportUsageError(f"--format: {request.file_format!r} is not one of {', '.join(FORMATS)}")
    if request.file_format in conversation_files.FORMATS and request.kind != "conversations":
        raise ImportUsageError(f"--format {request.file_format}: only for conversations")
    if request.chunk_rows < 1:
        raise ImportUsageError("--chunk-rows: must be at least 1")
    if request.rejects_path is not None and not request.rejects_path.parent.is_dir():
        raise ImportUsageError(f"--rejects: directory {request.rejects_path.parent} does not exist")
    if request.rejects_path is not None and request.rejects_path.resolve() == request.path.resolve():
        raise ImportUsageError("--rejects: must not be the file being imported")
    with platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == request.tenant_slug))
        if tenant is None or not tenant.is_active:
            raise ImportUsageError(f"--tenant: no active tenant with slug {request.tenant_slug!r}")
        return KINDS[request.kind], tenant.id, ParseContext(ZoneInfo(tenant.timezone), tenant.currency)


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1:
        raise ImportUsageError(f"--delimiter: {value!r} must be one character (or tab, comma, semicolon, pipe)")
    return delimiter


def _start_run(tenant_id: int, request: ImportRequest) -> int:
    params = {
        "file": str(request.path.resolve()),
        "bytes": request.path.stat().st_size,
        "format": request.file_format or ("parquet" if request.path.suffix.lower() in {".parquet", ".pq"} else "csv"),
        "map": list(request.map_options),
        "rejects": str(request.rejects_path) if request.rejects_path else None,
        "options": [list(option) for option in request.options],
    }
    with platform_session() as session:  # committed now: a crash mid-import still leaves a 'running' trace
        run = JobRun(tenant_id=tenant_id, job=f"import.{request.kind}", status="running", params=params)
        session.add(run)
        session.flush()
        return int(run.id)


def _finish_run(run_id: int, summary: ImportSummary, error: str | None) -> None:
    with platform_session() as session:
        run = session.get_one(JobRun, run_id)
        run.status = "failed" if error else "succeeded"
        run.rows = summary.counts.inserted + summary.counts.updated
        run.params = {**run.params, "summary": summary.as_dict()}
        run.error = error
        run.finished_at, run.duration_seconds = utcnow(), summary.elapsed_seconds
