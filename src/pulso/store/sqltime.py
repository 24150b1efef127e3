"""Local calendar parts of UTC timestamps in SQL, the same on PostgreSQL and SQLite.

PostgreSQL converts with ``timezone(zone, ts)``; SQLite has no time zones, so each SQLite connection gets a
``pulso_local_part`` function (:func:`pulso.store.engine.local_part`) computing the same in Python. Metrics can then
group by the tenant's local hour or weekday inside the database on either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Integer, cast, extract, func

from pulso.store.session import PulsoSession

Part = Literal["hour", "isodow"]


def local_part(session: PulsoSession, column: Any, timezone: str, part: Part) -> Any:
    """The local ``hour`` (0-23) or ISO weekday (``isodow``: 1 Monday .. 7 Sunday) of ``column`` in ``timezone``."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(extract(part, func.timezone(timezone, column)), Integer)
    return func.pulso_local_part(column, timezone, part)


def epoch_ms(session: PulsoSession, column: Any) -> Any:
    """A timestamp as integer milliseconds since the epoch, so windows and durations are integer arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.round(extract("epoch", column) * 1000), BigInteger)
    return cast(func.round((func.julianday(column) - 2440587.5) * 86400000.0), Integer)


def local_day_key(session: PulsoSession, column: Any, timezone: str) -> Any:
    """A group key from which the local day of ``column`` follows (:func:`local_day` reads it): the local date on
    PostgreSQL, a 15-minute UTC bucket on SQLite (every UTC offset in use is a multiple of 15 minutes), so that
    grouping by local day stays in SQL and only the buckets are folded into days in Python."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(timezone, column), Date())
    minute = cast(func.strftime("%M", column), Integer) / 15 * 15
    return func.strftime("%Y-%m-%d %H:", column).concat(func.printf("%02d", minute))


def local_day(key: Any, zone: ZoneInfo) -> date:
    """The local day of a :func:`local_day_key` value."""
    if isinstance(key, str):
        return datetime.strptime(key, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).astimezone(zone).date()
    if isinstance(key, datetime):
        return key.date()
    if isinstance(key, date):
        return key
    raise TypeError(f"not a local day key: {key!r}")
