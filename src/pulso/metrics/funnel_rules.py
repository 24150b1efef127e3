"""The conversation funnel's stage rules: what makes a conversation a qualified lead, a scheduled visit, a customer.

Read from ``tenants.settings["conversation_funnel"]`` and validated here (no SQL), each error naming the bad key.
A stage given in the settings replaces that stage's default as a whole. The defaults follow how clinics, gyms and
schools tag WhatsApp conversations in Chatwoot, and what the Sorriso demo writes (labels ``orcamento`` and
``agendado``, ``orders.kind = 'booking'``, ``lifecycle_stage = 'customer'`` from the first booking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulso.metrics.filters import AI_CLASSES
from pulso.store.models.silver import ORDER_STATUSES

STAGES = ("qualified", "scheduled", "customer")
LIFECYCLE_RULES = ("lead", "customer")
RULE_KEYS = ("labels", "attributes", "interest", "orders", "lifecycle")
TOP_KEYS = (*STAGES, "window_days", "include_existing_customers")
AttributeValue = str | int | float | bool
SETTINGS_KEY = "conversation_funnel"


@dataclass(frozen=True)
class OrderRule:
    """Orders of the conversation's contact made from its start to the end of the window; empty: any."""

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageRule:
    """A conversation reaches the stage when ANY of these matches (an empty rule never matches)."""

    labels: tuple[str, ...] = ()  # any of the conversation's labels
    attributes: tuple[tuple[str, tuple[AttributeValue, ...]], ...] = ()  # conversation OR contact attribute
    interest: tuple[str, ...] = ()  # conversation_insights.interest of any analyzer
    orders: OrderRule | None = None
    lifecycle: tuple[str, ...] = ()  # "lead": became a lead; "customer": became a customer within the window

    def described(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.labels:
            found["labels"] = list(self.labels)
        if self.attributes:
            found["attributes"] = {key: list(values) for key, values in self.attributes}
        if self.interest:
            found["interest"] = list(self.interest)
        if self.orders is not None:
            found["orders"] = {"kinds": list(self.orders.kinds), "statuses": list(self.orders.statuses)}
        if self.lifecycle:
            found["lifecycle"] = list(self.lifecycle)
        return found


DEFAULT_QUALIFIED = StageRule(labels=("orcamento", "qualificado", "qualified"), interest=("Alto", "Médio"))
DEFAULT_SCHEDULED = StageRule(
    labels=("agendado", "agendamento", "scheduled"),
    orders=OrderRule(kinds=("booking", "appointment"), statuses=("scheduled", "completed", "no_show")),
)
DEFAULT_CUSTOMER = StageRule(lifecycle=("customer",), orders=OrderRule(statuses=("completed",)))


@dataclass(frozen=True)
class FunnelRules:
    qualified: StageRule = DEFAULT_QUALIFIED
    scheduled: StageRule = DEFAULT_SCHEDULED
    customer: StageRule = DEFAULT_CUSTOMER
    window_days: int = 30  # attribution window after the conversation starts (bookings, orders, lifecycle)
    include_existing_customers: bool = False  # count conversations of contacts already customers when they began

    def rule(self, stage: str) -> StageRule:
        rule: StageRule = getattr(self, stage)
        return rule

    def described(self) -> dict[str, Any]:
        return {
            **{stage: self.rule(stage).described() for stage in STAGES},
            "window_days": self.window_days,
            "include_existing_customers": self.include_existing_customers,
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> FunnelRules:
        """The tenant's rules; ValueError naming the key (``settings.conversation_funnel.<...>``) when invalid."""
        where = f"settings.{SETTINGS_KEY}"
        raw = (settings or {}).get(SETTINGS_KEY)
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: an object, got {raw!r}")
        unknown = sorted(set(raw) - set(TOP_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(map(str, unknown))} (known: {', '.join(TOP_KEYS)})")
        found: dict[str, Any] = {stage: _stage(f"{where}.{stage}", raw[stage]) for stage in STAGES if stage in raw}
        if "window_days" in raw:
            days = raw["window_days"]
            if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
                raise ValueError(f"{where}.window_days: a whole number of days from 1 to 365, got {days!r}")
            found["window_days"] = days
        if "include_existing_customers" in raw:
            include = raw["include_existing_customers"]
            if not isinstance(include, bool):
                raise ValueError(f"{where}.include_existing_customers: true or false, got {include!r}")
            found["include_existing_customers"] = include
        return cls(**found)


def _stage(where: str, raw: Any) -> StageRule:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an object with any of {', '.join(RULE_KEYS)}, got {raw!r}")
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(map(str, unknown))} (known: {', '.join(RULE_KEYS)})")
    rule = StageRule(
        labels=_strings(f"{where}.labels", raw.get("labels", [])),
        attributes=_attributes(f"{where}.attributes", raw.get("attributes", {})),
        interest=_strings(f"{where}.interest", raw.get("interest", []), allowed=AI_CLASSES),
        orders=_orders(f"{where}.orders", raw["orders"]) if "orders" in raw else None,
        lifecycle=_strings(f"{where}.lifecycle", raw.get("lifecycle", []), allowed=LIFECYCLE_RULES),
    )
    if not rule.described():
        raise ValueError(f"{where}: no rule given, the stage could never be reached")
    return rule


def _strings(where: str, raw: Any, *, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise ValueError(f"{where}: a list of non-empty strings, got {raw!r}")
    bad = [v for v in raw if allowed and v not in allowed]
    if bad:
        raise ValueError(f"{where}: {bad[0]!r} is not one of {', '.join(allowed)}")
    return tuple(raw)


def _attributes(where: str, raw: Any) -> tuple[tuple[str, tuple[AttributeValue, ...]], ...]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an object of attribute -> value or list of values, got {raw!r}")
    found = []
    for key, value in raw.items():
        if not key or '"' in key:
            raise ValueError(f"{where}: attribute names must be non-empty and without '\"', got {key!r}")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int | float) for v in values):
            raise ValueError(f"{where}.{key}: a string, number or true/false, or a list of them, got {value!r}")
        found.append((key, tuple(values)))
    return tuple(found)


def _orders(where: str, raw: Any) -> OrderRule:
    if not isinstance(raw, dict) or set(raw) - {"kinds", "statuses"}:
        raise ValueError(f"{where}: an object with kinds and/or statuses (lists; empty: any), got {raw!r}")
    return OrderRule(
        kinds=_strings(f"{where}.kinds", raw.get("kinds", [])),
        statuses=_strings(f"{where}.statuses", raw.get("statuses", []), allowed=ORDER_STATUSES),
    )
