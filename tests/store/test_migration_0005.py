"""Migration 0005 fills the conversation columns it adds to existing facts rows, on SQLite and PostgreSQL.

Two conversations are written at revision 0004 with their facts: c1 assigned to Ana in team Vendas and resolved,
c2 unassigned and open, in another inbox. After the upgrade each facts row carries its conversation's values.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from pulso.config import Settings
from pulso.store import migrate
from pulso.store.engine import admin_engine, dispose_engines
from pulso.store.models import Agent, Conversation, ConversationFactsRow, Inbox, Team
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant

CREATED = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_existing_facts_get_their_conversation_columns(any_settings: Settings) -> None:
    migrate.downgrade(any_settings, "0004")
    try:
        with platform_session() as session:
            tenant = create_tenant(session, slug="a", name="A").id
        with tenant_session(tenant) as session:
            wa, ig = (
                Inbox(external_id="wa", name="WA", channel_type="whatsapp"),
                Inbox(external_id="ig", name="IG", channel_type="instagram"),
            )
            ana, team = Agent(external_id="ana", name="Ana", kind="human"), Team(external_id="t1", name="Vendas")
            session.add_all([wa, ig, ana, team])
            session.flush()
            c1 = Conversation(
                external_id="c1",
                inbox_id=wa.id,
                assignee_agent_id=ana.id,
                team_id=team.id,
                status="resolved",
                created_at=CREATED,
            )
            c2 = Conversation(external_id="c2", inbox_id=ig.id, status="open", created_at=CREATED)
            session.add_all([c1, c2])
            session.flush()
            ids = {"c1": c1.id, "c2": c2.id, "wa": wa.id, "ig": ig.id, "ana": ana.id, "team": team.id}
        facts = ConversationFactsRow.__table__
        with admin_engine(any_settings).begin() as connection:  # the 0004 columns only: the row as it was
            for key in ("c1", "c2"):
                connection.execute(
                    insert(facts).values(
                        tenant_id=tenant, conversation_id=ids[key], created_at=CREATED, handled_by="human_only"
                    )
                )
    finally:
        dispose_engines()
        migrate.upgrade(any_settings)
        dispose_engines()
    with tenant_session(tenant) as session:
        rows = session.execute(
            select(
                ConversationFactsRow.conversation_id,
                ConversationFactsRow.assignee_agent_id,
                ConversationFactsRow.inbox_id,
                ConversationFactsRow.team_id,
                ConversationFactsRow.status,
            ).order_by(ConversationFactsRow.conversation_id)
        ).all()
    assert [tuple(row) for row in rows] == [
        (ids["c1"], ids["ana"], ids["wa"], ids["team"], "resolved"),
        (ids["c2"], None, ids["ig"], None, "open"),
    ]
