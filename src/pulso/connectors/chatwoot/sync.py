"""One Chatwoot sync: read a consistent snapshot of the account, write bronze and silver page by page.

Order and guarantees
- Small streams (inboxes with working hours, agents and bots, teams, campaigns, label definitions) are read whole
  each time.
- Big streams (contacts, conversations, messages, CSAT answers, reporting events) are read from a per-tenant,
  per-stream watermark. Each page is written in one transaction together with its bronze copy and the new
  watermark, so a crash loses at most the page in flight and the next run resumes after the last committed page:
  no gaps, and the upserts make re-reads harmless (no duplicates).
- The first sync (or ``--full``) reads by primary key; when it completes, the stream's watermark becomes the
  snapshot time, and later syncs read ``updated_at`` from that watermark minus the overlap window
  (``PULSO_CHATWOOT_OVERLAP_MINUTES``, default 10), which covers rows committed late with an older timestamp.
- Every ``PULSO_CHATWOOT_SWEEP_EVERY_HOURS`` (default 6) and on ``--full``, a reconciliation sweep re-reads the
  conversations and contacts created, updated or active in the last ``PULSO_CHATWOOT_SWEEP_WINDOW_DAYS`` (assignee
  or team cleared by a bulk update, ``last_activity_at``: changes that do not move ``updated_at``) and removes
  what Chatwoot hard-deleted (it has no delete events), by comparing id lists.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from queue import Empty, Queue
from typing import Any

from sqlalchemy import select, update

from pulso.config import Settings, get_settings
from pulso.connectors.chatwoot import load, transform
from pulso.connectors.chatwoot.extract import ChatwootReader, Mode, Position, Row, Scope
from pulso.connectors.chatwoot.source import ChatwootSourceConfig, chatwoot_sources
from pulso.pipeline.registry import Job, register
from pulso.store import bulk
from pulso.store.models import RawEvent, Source, Watermark
from pulso.store.session import PulsoSession, tenant_session
from pulso.store.types import utcnow

log = logging.getLogger(__name__)

# (stream, rows so far, expected total or None)
Progress = Callable[[str, int, int | None], None]


@dataclass
class SyncResult:
    source: str
    mode: str
    snapshot_at: datetime
    stats: load.LoadStats = field(default_factory=load.LoadStats)
    status_changes: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    swept: bool = False
    seconds: float = 0.0
    seconds_by_stream: dict[str, float] = field(default_factory=dict)  # wall time of each stream and the sweep

    @property
    def messages(self) -> int:
        return self.stats.written.get("messages", 0)


def _stream_name(source_id: int, stream: str) -> str:
    return f"chatwoot:{source_id}:{stream}"


def read_watermark(session: PulsoSession, source_id: int, stream: str) -> dict[str, Any] | None:
    value = session.scalar(select(Watermark.value).where(Watermark.stream == _stream_name(source_id, stream)))
    return json.loads(value) if value else None


def write_watermark(session: PulsoSession, source_id: int, stream: str, state: dict[str, Any]) -> None:
    row = {"source_id": source_id, "stream": _stream_name(source_id, stream), "value": json.dumps(state)}
    load.upsert(session, Watermark, [{**row, "updated_at": utcnow()}], keys=("tenant_id", "stream"))


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else moment.isoformat()


PARALLEL_STREAMS = ("conversations", "messages")  # pages independent of each other (contacts are matched across pages)

_TRANSFORMS = {
    "contacts": transform.contact,
    "conversations": transform.conversation,
    "messages": transform.message,
    "csat": transform.csat,
    "reporting_events": transform.reporting_event,
}


@dataclass(frozen=True)
class Page:
    """One page as read and as mapped: mapping runs in the reader thread while the previous page is written."""

    stream: str
    rows: Sequence[Row]
    records: list[transform.Record]
    changes: list[transform.Record]
    bronze: bytes


def prepare_page(stream: str, rows: Sequence[Row], source_id: int, origin: str = "sync") -> Page:
    if stream not in _TRANSFORMS:
        raise ValueError(f"unknown stream {stream!r}")
    records = [_TRANSFORMS[stream](row) for row in rows]
    changes: list[transform.Record] = []
    if stream == "reporting_events":
        changes = [c for c in (transform.status_change_from_event(row) for row in rows) if c is not None]
    return Page(stream, rows, records, changes, load.bronze_payload(source_id, stream, rows, origin))


def _load_page(refs: load.Refs, page: Page, result: SyncResult, source_id: int, origin: str) -> None:
    """Bronze first, then silver, in the caller's transaction."""
    load.write_bronze(refs.session, source_id, page.stream, page.rows, origin, payload=page.bronze)
    stats, stream, records = result.stats, page.stream, page.records
    if stream == "contacts":
        stats.add("contacts", load.load_contacts(refs, records))
    elif stream == "conversations":
        result.status_changes += load.add_status_changes(refs, load.load_conversations(refs, records, stats))
    elif stream == "messages":
        load.load_messages(refs, records, stats)
    elif stream == "csat":
        load.load_csat(refs, records, stats)
    else:
        load.load_reporting_events(refs, records, stats)
        result.status_changes += load.add_status_changes(refs, page.changes)


def _read_ahead(pages: Iterator[list[Row]], stream: str, source_id: int, depth: int = 2) -> Generator[Page, None, None]:
    """Read and map pages in a thread, ``depth`` pages ahead of the writer: the database waits of one side
    overlap the Python work of the other. Errors in the reader are raised here, in the caller's thread."""
    queue: Queue[Page | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for rows in pages:
                if stop.is_set():
                    return
                queue.put(prepare_page(stream, rows, source_id))
            queue.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)

    thread = threading.Thread(target=produce, name=f"chatwoot-read-{stream}", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)


class _Committed:
    """How far a full read of contacts has committed, for conversation pages to wait on."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.last_id = 0
        self.finished = False
        self.failed = False

    def advance(self, last_id: int) -> None:
        with self._changed:
            self.last_id = max(self.last_id, last_id)
            self._changed.notify_all()

    def finish(self, *, failed: bool = False) -> None:
        with self._changed:
            self.finished, self.failed = True, self.failed or failed
            self._changed.notify_all()

    def wait_for(self, page: Page) -> None:
        """Return once every contact the page's conversations name has committed, or the contacts are done."""
        needed = max((int(row["contact_id"]) for row in page.rows if row.get("contact_id")), default=0)
        with self._changed:
            self._changed.wait_for(lambda: self.finished or self.last_id >= needed)
            if self.failed:
                raise RuntimeError("the contacts stream failed; conversations stop with it")


class ChatwootSync:
    """Syncs one configured source into its tenant. ``run()`` may be called once."""

    def __init__(
        self, config: ChatwootSourceConfig, *, settings: Settings | None = None, progress: Progress | None = None
    ) -> None:
        self.config = config
        self.settings = settings or get_settings()
        self.progress = progress
        self.overlap = timedelta(minutes=self.settings.chatwoot_overlap_minutes)

    def run(self, *, full: bool = False) -> SyncResult:
        started = utcnow()
        scope = Scope(self.config.account_id, self.config.inbox_ids)
        try:
            with ChatwootReader(self.config.dsn, scope, fetch_size=self.settings.chatwoot_page_size) as reader:
                result = SyncResult(self.config.name, "incremental", reader.snapshot_at)
                self._small_streams(reader, result)
                self._contacts_and_conversations(reader, result, full)  # what the other streams refer to
                self._parallel_streams(reader, result, full)
                if full or self._sweep_due(reader.snapshot_at):
                    self._sweep(reader, result)
                self._settle_webhooks(reader.snapshot_at)
        except Exception as exc:
            self._record(error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        self._record(error=None)
        result.seconds = (utcnow() - started).total_seconds()
        return result

    def _session(self) -> Any:
        return tenant_session(self.config.tenant_id)

    def _record(self, error: str | None) -> None:
        with self._session() as session:
            values: dict[str, Any] = {"last_error": error}
            if error is None:
                values["last_synced_at"] = utcnow()
            session.execute(update(Source).where(Source.id == self.config.source_id).values(**values))

    def _small_streams(self, reader: ChatwootReader, result: SyncResult) -> None:
        source_id = self.config.source_id
        inboxes, agents, teams, campaigns = reader.inboxes(), reader.agents(), reader.teams(), reader.campaigns()
        labels = reader.labels()
        with self._session() as session:
            refs = load.Refs(session)
            small = {"inboxes": inboxes, "agents": agents, "teams": teams, "campaigns": campaigns, "labels": labels}
            for stream, rows in small.items():
                load.write_bronze(session, source_id, stream, rows, "sync")
            result.stats.add("inboxes", load.load_inboxes(refs, [transform.inbox(r) for r in inboxes]))
            result.stats.add("agents", load.load_agents(refs, [transform.agent(r) for r in agents], complete=True))
            result.stats.add("teams", load.load_teams(refs, [transform.team(r) for r in teams]))
            result.stats.add("campaigns", load.load_campaigns(refs, [transform.campaign(r) for r in campaigns]))
            result.stats.add("labels", len(labels))  # bronze only: silver keeps labels on their conversations
        self.refs = refs

    def _plan(self, stream: str, full: bool, snapshot: datetime) -> tuple[Mode, Position, dict[str, Any]]:
        """Where a stream starts: a fresh or resumed full read, or an incremental read minus the overlap."""
        with self._session() as session:
            state = read_watermark(session, self.config.source_id, stream)
        if full or state is None:
            return "full", Position(), {"mode": "full", "last_id": 0, "snapshot": _iso(snapshot)}
        if state["mode"] == "full":  # an interrupted full read: go on after the last committed id
            return "full", Position(last_id=int(state["last_id"])), state
        since = datetime.fromisoformat(state["updated_at"]).astimezone(UTC).replace(tzinfo=None)
        if self.overlap:
            return "incremental", Position(since - self.overlap, 0), state
        return "incremental", Position(since, int(state["id"])), state

    def _contacts_and_conversations(self, reader: ChatwootReader, result: SyncResult, full: bool) -> None:
        """Contacts, then conversations, which refer to them. On a full read into PostgreSQL the two overlap: the
        conversations are read by a second reader sharing this snapshot, and each of their pages waits until every
        contact it names has committed (or the contacts are done: a contact outside the account's selection never
        comes). Contacts are read in id order and a conversation's contact is nearly always older than it, so the
        conversations follow the contacts closely instead of waiting for all of them."""
        overlap = self._plan("conversations", full, reader.snapshot_at)[0] == "full" and self._writers() > 1
        if not overlap:
            for stream in ("contacts", "conversations"):
                self._big_stream(reader, stream, result, full, self.refs)
            return
        contacts = _Committed()
        errors: list[BaseException] = []
        snapshot = reader.export_snapshot()
        refs = self.refs.fork(self.refs.session)  # its own session per page; the caches are shared

        def conversations() -> None:
            try:
                with ChatwootReader(
                    reader.dsn, reader.scope, fetch_size=reader.fetch_size, snapshot=snapshot
                ) as second:
                    self._big_stream(second, "conversations", result, full, refs, gate=contacts.wait_for)
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)

        thread = threading.Thread(target=conversations, name="chatwoot-conversations", daemon=True)
        thread.start()
        try:
            self._big_stream(reader, "contacts", result, full, self.refs, committed=contacts.advance)
        except BaseException:
            contacts.finish(failed=True)
            raise
        finally:
            contacts.finish()
            thread.join()
        if errors:
            raise errors[0]

    def _parallel_streams(self, reader: ChatwootReader, result: SyncResult, full: bool) -> None:
        """Messages, CSAT answers and reporting events. On a full read into PostgreSQL the last two run at the same
        time as messages, in a second thread with a second reader sharing this snapshot and Refs of their own (they
        refer to conversations, not to messages). Incremental reads are short and stay sequential, so two
        transactions never touch the same conversations at once; SQLite has one writer anyway."""
        with self._session() as session:
            parallel = session.get_bind().dialect.name == "postgresql"
            parallel = parallel and self._plan("messages", full, reader.snapshot_at)[0] == "full"
            refs = load.Refs(session)
        if not parallel:
            for stream in ("messages", "csat", "reporting_events"):
                self._big_stream(reader, stream, result, full, self.refs)
            return
        refs.conversations, refs.fresh = dict(self.refs.conversations), set(self.refs.fresh)
        errors: list[BaseException] = []
        snapshot = reader.export_snapshot()

        def others() -> None:
            try:
                with ChatwootReader(
                    reader.dsn, reader.scope, fetch_size=reader.fetch_size, snapshot=snapshot
                ) as second:
                    for stream in ("csat", "reporting_events"):
                        self._big_stream(second, stream, result, full, refs)
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)

        thread = threading.Thread(target=others, name="chatwoot-events", daemon=True)
        thread.start()
        try:
            self._big_stream(reader, "messages", result, full, self.refs)
        finally:
            thread.join()
        if errors:
            raise errors[0]

    def _big_stream(
        self,
        reader: ChatwootReader,
        stream: str,
        result: SyncResult,
        full: bool,
        refs: load.Refs,
        *,
        gate: Callable[[Page], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> None:
        """``gate`` is called with each page before it is written (it may wait); ``committed`` with the last source
        id of each committed page of a full read (pages commit in order there unless several writers are used)."""
        began = time.perf_counter()
        try:
            self._read_stream(reader, stream, result, full, refs, gate, committed)
        finally:
            result.seconds_by_stream[stream] = time.perf_counter() - began

    def _read_stream(
        self,
        reader: ChatwootReader,
        stream: str,
        result: SyncResult,
        full: bool,
        refs: load.Refs,
        gate: Callable[[Page], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> None:
        mode, position, state = self._plan(stream, full, reader.snapshot_at)
        if committed is not None and mode == "full":
            committed(position.last_id)  # what an interrupted full read had already committed
        if mode == "full":
            result.mode = "full"
        total = reader.count(stream, mode, position) if self.progress else None
        done = 0

        def report(rows: int) -> None:
            nonlocal done
            done += rows
            if self.progress:
                self.progress(stream, done, total)

        report(0)
        pages = _read_ahead(reader.stream(stream, mode, position), stream, self.config.source_id)
        try:
            if mode == "full" and stream in PARALLEL_STREAMS and self._writers() > 1:
                self._write_in_parallel(pages, stream, state, result, refs, report, gate)
            else:
                for page in pages:
                    if gate is not None:
                        gate(page)
                    last = page.rows[-1]
                    if mode == "full":
                        state = {**state, "last_id": int(last["id"])}
                    else:
                        state = {"mode": "incremental", "updated_at": _iso(last["updated_at"]), "id": int(last["id"])}
                    self._write_page(page, state, result, refs)
                    if committed is not None and mode == "full":
                        committed(int(last["id"]))
                    report(len(page.rows))
        finally:
            pages.close()
        if mode == "full":  # complete: from now on read changes since the snapshot the full read started from
            snapshot = state.get("snapshot") or _iso(reader.snapshot_at)
            with self._session() as session:
                write_watermark(
                    session, self.config.source_id, stream, {"mode": "incremental", "updated_at": snapshot, "id": 0}
                )

    def _writers(self) -> int:
        """Page writers for a full read: several only on PostgreSQL (SQLite has one writer anyway)."""
        with self._session() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
        return max(1, self.settings.chatwoot_writers) if postgres else 1

    def _write_page(
        self,
        page: Page,
        state: dict[str, Any] | Callable[[], dict[str, Any] | None],
        result: SyncResult,
        refs: load.Refs,
    ) -> None:
        """One page, its bronze copy and the stream's new watermark, in one transaction. ``state`` may be a function
        asked just before the commit, which answers None when the watermark must not move yet."""
        with self._session() as session:
            bulk.relaxed_commit(session)  # the page and its watermark commit together: a lost commit is re-read
            if page.stream != "messages":  # measured: helps every stream that looks keys up, not the messages'
                bulk.plan_for_parameters(session)
            refs.session = session
            _load_page(refs, page, result, self.config.source_id, "sync")
            step = state() if callable(state) else state
            if step is not None:
                write_watermark(session, self.config.source_id, page.stream, step)

    def _write_in_parallel(
        self,
        pages: Generator[Page, None, None],
        stream: str,
        state: dict[str, Any],
        result: SyncResult,
        refs: load.Refs,
        report: Callable[[int], None],
        gate: Callable[[Page], None] | None = None,
    ) -> None:
        """A full read's pages written by ``PULSO_CHATWOOT_WRITERS`` threads, each page in its own transaction, so
        the database inserts of one page overlap the next one's. Pages may then commit out of order, so the
        watermark moves only over committed pages: a page's transaction carries it when every earlier page has
        committed by the time this one is about to (otherwise a later page will). After a crash the resumed read
        re-writes at most the pages committed past the watermark, which the upserts make harmless: no gaps, no
        duplicates."""
        lock, take = threading.Lock(), threading.Lock()  # the watermark's state; the page source
        numbered = enumerate(pages)
        committed: set[int] = set()
        prefix = -1  # every page up to this index has committed
        errors: list[BaseException] = []

        def if_earlier_committed(index: int, step: dict[str, Any]) -> dict[str, Any] | None:
            with lock:
                return step if prefix == index - 1 else None

        def work(own: load.Refs) -> None:
            nonlocal prefix
            try:
                while not errors:
                    with take:
                        item = next(numbered, None)
                        if item is None:
                            return
                        index, page = item
                    if gate is not None:
                        gate(page)
                    step = {**state, "last_id": int(page.rows[-1]["id"])}
                    self._write_page(page, partial(if_earlier_committed, index, step), result, own)
                    with lock:
                        committed.add(index)
                        while prefix + 1 in committed:
                            prefix += 1
                            committed.discard(prefix)
                        report(len(page.rows))
            except BaseException as exc:  # stops the other writers; re-raised in the caller's thread below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(refs.fork(refs.session),), name=f"chatwoot-write-{stream}-{n}")
            for n in range(1, self._writers())
        ]
        for thread in threads:
            thread.start()
        work(refs)
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _settle_webhooks(self, snapshot: datetime) -> None:
        """Webhooks received before the snapshot and not applied (e.g. their inbox was not synced yet) are now
        covered: the snapshot holds the same rows. Mark them processed so nothing waits on them."""
        with self._session() as session:
            session.execute(
                update(RawEvent)
                .where(RawEvent.source == "chatwoot", RawEvent.kind.like("webhook.%"), RawEvent.processed_at.is_(None))
                .where(RawEvent.received_at < snapshot.replace(tzinfo=UTC))
                .values(processed_at=utcnow())
            )

    def _sweep_due(self, snapshot: datetime) -> bool:
        with self._session() as session:
            state = read_watermark(session, self.config.source_id, "sweep")
        if state is None:
            return True
        last = datetime.fromisoformat(state["at"]).astimezone(UTC).replace(tzinfo=None)
        return snapshot - last >= timedelta(hours=self.settings.chatwoot_sweep_every_hours)

    def _sweep(self, reader: ChatwootReader, result: SyncResult) -> None:
        began = time.perf_counter()
        window_start = reader.snapshot_at - timedelta(days=self.settings.chatwoot_sweep_window_days)
        for stream in ("contacts", "conversations"):
            for rows in reader.stream(stream, "window", window_start=window_start):
                with self._session() as session:
                    self.refs.session = session
                    page = prepare_page(stream, rows, self.config.source_id, "sweep")
                    _load_page(self.refs, page, result, self.config.source_id, "sweep")
        conversations, contacts = reader.ids("conversations"), reader.ids("contacts")
        with self._session() as session:
            before = reader.snapshot_at.replace(tzinfo=UTC)
            result.deleted["conversations"] = load.delete_missing(session, "conversations", conversations, before)
            result.deleted["contacts"] = load.delete_missing(session, "contacts", contacts, before)
            write_watermark(session, self.config.source_id, "sweep", {"at": _iso(reader.snapshot_at)})
        self.refs.conversations.clear()
        self.refs.contacts.clear()
        result.swept = True
        result.seconds_by_stream["sweep"] = time.perf_counter() - began


def source_configs(tenant_id: int, name: str | None = None) -> list[ChatwootSourceConfig]:
    with tenant_session(tenant_id) as session:
        sources = chatwoot_sources(session)
    if name is not None:
        sources = [s for s in sources if s.name == name]
    return sources


def sync_tenant(
    tenant_id: int, *, full: bool = False, progress: Progress | None = None, name: str | None = None
) -> list[SyncResult]:
    """Sync every active Chatwoot source of a tenant (there is at most one per tenant today)."""
    return [ChatwootSync(config, progress=progress).run(full=full) for config in source_configs(tenant_id, name)]


def run_sync_job(session: PulsoSession, _since: Any) -> int:
    """The worker's job: an incremental sync of the tenant's Chatwoot sources (rows written)."""
    configs = chatwoot_sources(session)
    session.commit()  # each page commits in its own transaction; hold nothing open meanwhile
    written = 0
    for config in configs:
        result = ChatwootSync(config).run()
        written += sum(result.stats.written.values())
        log.info("chatwoot sync %s: %s", config.name, result.stats.written)
    return written


JOB = register(
    Job(
        name="chatwoot.sync",
        run=run_sync_job,
        description="Incremental sync of the tenant's Chatwoot database (and the periodic reconciliation sweep).",
        every_minutes=get_settings().chatwoot_sync_every_minutes,
        order=150,
    )
)
