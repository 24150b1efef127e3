"""fetch_columns on SQLite and PostgreSQL: values, NULLs, text and no rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.metrics.columns import fetch_columns
from pulso.store.models import Contact
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant


def test_columns_keep_rows_aligned_with_nulls_and_text(any_settings: Settings) -> None:
    with platform_session() as session:
        tenant = create_tenant(session, slug="t", name="T", timezone="UTC").id
        other = create_tenant(session, slug="u", name="U", timezone="UTC").id
    seen = datetime(2025, 3, 1, tzinfo=UTC)
    for tenant_id in (tenant, other):
        with tenant_session(tenant_id) as session:
            session.add_all(
                [
                    Contact(name="Ana", first_touch_channel="google", first_seen_at=seen),
                    Contact(name="Bruno", first_touch_channel=None, first_seen_at=seen),
                    Contact(name="Caio 'o' \"C\"", first_touch_channel="meta", first_seen_at=seen),
                ]
            )
    with tenant_session(tenant) as session:
        query = select(
            Contact.name.label("name"),
            func.length(Contact.first_touch_channel).label("size"),
            Contact.first_touch_channel.label("channel"),
            func.coalesce(func.length(Contact.first_touch_channel), -1).label("sized"),
        )
        found = fetch_columns(
            session, query, {"name": "object", "size": "float64", "channel": "object", "sized": "int64"}
        )
        empty = fetch_columns(session, query.where(Contact.name == "nobody"), {"name": "object", "size": "float64"})
    order = np.argsort(found["name"])
    assert found["name"][order].tolist() == ["Ana", "Bruno", "Caio 'o' \"C\""]  # only tenant T's rows
    assert np.isnan(found["size"][order][1]) and found["size"][order][[0, 2]].tolist() == [6.0, 4.0]
    assert found["channel"][order].tolist() == ["google", None, "meta"]
    assert found["sized"][order].tolist() == [6, -1, 4] and found["sized"].dtype == np.int64
    assert empty["name"].shape == (0,) and empty["size"].shape == (0,)
