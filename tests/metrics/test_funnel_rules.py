"""The conversation funnel's stage rules as tenant settings: defaults, replacement per stage, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from pulso.metrics.funnel_rules import DEFAULT_CUSTOMER, DEFAULT_QUALIFIED, FunnelRules, OrderRule, StageRule


def test_defaults_match_the_demo_and_chatwoot_practice() -> None:
    rules = FunnelRules.from_settings({})
    assert rules == FunnelRules() and rules.window_days == 30 and not rules.include_existing_customers
    assert "orcamento" in rules.qualified.labels and rules.qualified.interest == ("Alto", "Médio")
    assert "agendado" in rules.scheduled.labels and rules.scheduled.orders is not None
    assert "booking" in rules.scheduled.orders.kinds and rules.customer.lifecycle == ("customer",)


def test_a_stage_in_the_settings_replaces_that_stage_only() -> None:
    settings = {
        "conversation_funnel": {
            "scheduled": {"labels": ["visita"], "orders": {"kinds": ["aula_experimental"]}},
            "window_days": 14,
            "include_existing_customers": True,
        }
    }
    rules = FunnelRules.from_settings(settings)
    assert rules.scheduled == StageRule(labels=("visita",), orders=OrderRule(kinds=("aula_experimental",)))
    assert (rules.qualified, rules.customer) == (DEFAULT_QUALIFIED, DEFAULT_CUSTOMER)
    assert (rules.window_days, rules.include_existing_customers) == (14, True)
    assert rules.described()["scheduled"] == {
        "labels": ["visita"],
        "orders": {"kinds": ["aula_experimental"], "statuses": []},
    }


@pytest.mark.parametrize(
    ("funnel", "message"),
    [
        ("yes", "settings.conversation_funnel: an object, got 'yes'"),
        ({"qualifed": {}}, "settings.conversation_funnel: unknown keys qualifed"),
        ({"qualified": {"tags": ["x"]}}, "settings.conversation_funnel.qualified: unknown keys tags"),
        ({"qualified": {}}, "settings.conversation_funnel.qualified: no rule given"),
        ({"qualified": {"labels": "orcamento"}}, "settings.conversation_funnel.qualified.labels: a list of non-empty"),
        ({"qualified": {"interest": ["High"]}}, "qualified.interest: 'High' is not one of Alto, Médio, Baixo"),
        ({"customer": {"lifecycle": ["churned"]}}, "customer.lifecycle: 'churned' is not one of lead, customer"),
        ({"scheduled": {"orders": {"statuses": ["booked"]}}}, "scheduled.orders.statuses: 'booked' is not one of"),
        ({"scheduled": {"orders": {"kind": ["booking"]}}}, "scheduled.orders: an object with kinds and/or statuses"),
        ({"qualified": {"attributes": {"plano": None}}}, "qualified.attributes.plano: a string, number or true"),
        ({"qualified": {"attributes": ["plano"]}}, "qualified.attributes: an object of attribute -> value"),
        ({"window_days": 0}, "settings.conversation_funnel.window_days: a whole number of days from 1 to 365"),
        ({"include_existing_customers": "no"}, "include_existing_customers: true or false, got 'no'"),
    ],
)
def test_invalid_settings_name_the_bad_key(funnel: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        FunnelRules.from_settings({"conversation_funnel": funnel})
