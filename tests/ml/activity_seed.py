"""A tenant whose leads convert with a planted effect, for the activity lead score, its updater and its API.

Lead ``i`` (0 .. n-1) starts ``i`` days and 3 hours before ``now`` (``became_lead_at``) with a WhatsApp
conversation: one message in at the start, one reply 5 minutes later. Every third lead (i % 3 == 0) came by
referral; the rest by Google. Referral leads convert unless i % 4 == 1, the others when i % 10 == 5: even leads
two days after their start, odd ones nine days after (so some convert after the 7-day window, and leads still
open at every landmark do convert). With the 30-day horizon the tests use, leads 30 .. n-1 are finished (their
outcome known) and the open leads are the younger ones that did not convert yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pulso.store.models import Contact, Conversation, Inbox, Message
from pulso.store.session import tenant_session

HORIZON = timedelta(days=30)


def is_referral(i: int) -> bool:
    return i % 3 == 0


def converts(i: int) -> bool:
    return i % 4 != 1 if is_referral(i) else i % 10 == 5


def conversion_delay(i: int) -> timedelta:
    return timedelta(days=2 if i % 2 == 0 else 9)


def started(i: int, now: datetime) -> datetime:
    return now - timedelta(days=i, hours=3)


def seed_leads(tenant_id: int, now: datetime, n: int = 120) -> dict[str, int]:
    """Contact ids by ``lead<i>``; also ``inbox``."""
    with tenant_session(tenant_id) as session:
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        session.add(inbox)
        contacts = []
        for i in range(n):
            start = started(i, now)
            customer = start + conversion_delay(i) if converts(i) and start + conversion_delay(i) <= now else None
            contacts.append(
                Contact(
                    name=f"Lead {i}",
                    first_touch_channel="referral" if is_referral(i) else "google",
                    lifecycle_stage="customer" if customer else "lead",
                    first_seen_at=start,
                    became_lead_at=start,
                    became_customer_at=customer,
                )
            )
        session.add_all(contacts)
        session.flush()
        talks = [
            Conversation(external_id=f"c{i}", inbox_id=inbox.id, contact_id=c.id, created_at=started(i, now))
            for i, c in enumerate(contacts)
        ]
        session.add_all(talks)
        session.flush()
        for i, talk in enumerate(talks):
            for n_message, (direction, after) in enumerate((("incoming", 0), ("outgoing", 5))):
                session.add(
                    Message(
                        external_id=f"m{i}-{n_message}",
                        conversation_id=talk.id,
                        direction=direction,
                        sender_kind="contact" if direction == "incoming" else "agent",
                        created_at=talk.created_at + timedelta(minutes=after),
                    )
                )
        return {"inbox": inbox.id, **{f"lead{i}": c.id for i, c in enumerate(contacts)}}


def open_leads(n: int = 120, horizon_days: int = 30) -> list[int]:
    """The indexes of the leads open at ``now`` (horizon not over, not converted yet)."""
    converted = [converts(i) and timedelta(days=i, hours=3) >= conversion_delay(i) for i in range(n)]
    return [i for i in range(min(n, horizon_days)) if not converted[i]]
