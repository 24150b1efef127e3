"""Local calendar parts of UTC timestamps in SQL, the same on PostgreSQL and SQLite.

PostgreSQL converts with ``timezone(zone, ts)``; SQLite has no time zones, so each SQLite connection gets a
``pulso_local_part`` function (:func:`pulso.store.engine.local_part`) computing the same in Python. Metrics can then
group by the tenant's local hour or weekday inside the database on either.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Integer, cast, extract, func

from pulso.store.session import PulsoSession

Part = Literal["hour", "isodow"]


def local_part(session: PulsoSession, column: Any, timezone: str, part: Part) -> Any:
    """The local ``hour`` (0-23) or ISO weekday (``isodow``: 1 Monday .. 7 Sunday) of ``column`` in ``timezone``."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(extract(part, func.timezone(timezone, column)), Integer)
    return func.pulso_local_part(column, timezone, part)
