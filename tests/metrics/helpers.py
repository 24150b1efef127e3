"""Shared set-up for the metric tests: a tenant holding a hand-built week, beside another holding the same rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulso.store.models import Conversation
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant

TZ = "America/Sao_Paulo"


def seeded_tenant(seed: Callable[[int], dict[str, int]]) -> tuple[int, dict[str, int]]:
    """Tenant T seeded with ``seed``, and tenant U with the very same rows, which no query about T may count.
    Returns T's id and the ids ``seed`` gave back for T."""
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone=TZ).id
        u = create_tenant(session, slug="u", name="U", timezone=TZ).id
    ids = seed(t)
    seed(u)
    return t, ids


def copied_columns(conversation: Conversation) -> dict[str, Any]:
    """The conversation's columns a facts row copies, as the facts job writes them (the conversation flushed)."""
    return {
        "assignee_agent_id": conversation.assignee_agent_id,
        "inbox_id": conversation.inbox_id,
        "team_id": conversation.team_id,
        "status": conversation.status,
    }
