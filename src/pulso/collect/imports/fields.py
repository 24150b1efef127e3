"""What each kind of file may contain, how source columns map to those fields, and row validation.

A kind declares its fields; the header of the file is matched to them by normalised name, alias or ``--map``.
Validation turns a source row into a typed record (a dict keyed by field) or a list of :class:`FieldError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from pulso.errors import InvalidInputError

Record = dict[str, Any]


class ImportUsageError(InvalidInputError):
    """The import cannot start: unknown tenant, kind, file, column or field. Exits with code 2."""


@dataclass(frozen=True)
class ParseContext:
    zone: tzinfo  # the tenant's time zone, for timestamps written without an offset
    currency: str  # the tenant's currency, the default for money columns
    batch_id: str | None = None  # stamped on bronze rows written by this import


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any, ParseContext], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class KindSpec:
    """One importable kind. ``prefixes`` are open families of columns (``properties.plan``) kept as a dict."""

    name: str
    fields: tuple[Field, ...]
    check: Callable[[Record], list[FieldError]] = lambda _record: []
    prefixes: tuple[str, ...] = ()
    extras_into: str | None = None  # unknown columns go into this dict field (contacts: attributes)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class ColumnPlan:
    """Which source column feeds which field; ``ignored`` are columns that feed nothing."""

    by_field: dict[str, str]
    prefixed: dict[str, str]  # source column -> "properties.plan"
    extras: dict[str, str]  # source column -> attribute name
    ignored: list[str] = field(default_factory=list)
    feeds: tuple[tuple[Field, str], ...] = ()  # the fields the file feeds, with their column, in field order


def normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_map_options(options: Sequence[str]) -> dict[str, str]:
    """``["valor=amount", "data=ordered_at"]`` -> ``{"valor": "amount", "data": "ordered_at"}``."""
    mapping: dict[str, str] = {}
    for option in options:
        column, sep, target = option.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise ImportUsageError(f"--map: {option!r} must look like COLUMN=FIELD, e.g. valor=amount")
        mapping[column.strip()] = target.strip()
    return mapping


def plan_columns(spec: KindSpec, header: Sequence[str], mapping: Mapping[str, str]) -> ColumnPlan:
    """Match the header to the kind's fields: ``--map`` first, then the field name, then its aliases."""
    known = {f.name for f in spec.fields}
    by_field: dict[str, str] = {}
    prefixed: dict[str, str] = {}
    header_by_norm = {normalise(column): column for column in header}
    for column, target in mapping.items():
        if column not in header and normalise(column) not in header_by_norm:
            raise ImportUsageError(f"--map {column}={target}: the file has no column {column!r}")
        source = column if column in header else header_by_norm[normalise(column)]
        if target in known:
            by_field[target] = source
        elif any(target.startswith(p) and len(target) > len(p) for p in spec.prefixes):
            prefixed[source] = target
        else:
            choices = ", ".join([*sorted(known), *(p + "*" for p in spec.prefixes)])
            raise ImportUsageError(f"--map {column}={target}: {spec.name} have no field {target!r}; fields: {choices}")
    used = set(by_field.values()) | set(prefixed)
    for f in spec.fields:
        if f.name in by_field:
            continue
        for candidate in (f.name, *f.aliases):
            found = header_by_norm.get(candidate)
            if found is not None and found not in used:
                by_field[f.name] = found
                used.add(found)
                break
    extras: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        if column in used:
            continue
        norm = normalise(column)
        if any(norm.startswith(p) and len(norm) > len(p) for p in spec.prefixes):
            prefixed[column] = norm
        elif spec.extras_into and norm:
            extras[column] = norm
        else:
            ignored.append(column)
    missing = [f.name for f in spec.fields if f.required and f.name not in by_field]
    if missing:
        names = ", ".join(missing)
        raise ImportUsageError(
            f"{spec.name}: missing required column {names} (name a column so, or use --map COLUMN={missing[0]})"
        )
    feeds = tuple((f, by_field[f.name]) for f in spec.fields if f.name in by_field)
    return ColumnPlan(by_field, prefixed, extras, ignored, feeds)


def validate(
    spec: KindSpec, plan: ColumnPlan, row: Mapping[str, Any], context: ParseContext
) -> Record | list[FieldError]:
    """A typed record, or every reason the row cannot be accepted. Empty cells count as absent."""
    record: Record = {}
    errors: list[FieldError] = []
    for f, column in plan.feeds:  # a required field always has a column: plan_columns checked
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                errors.append(FieldError(f.name, "missing required field"))
            continue
        try:
            record[f.name] = f.parse(value, context)
        except ValueError as exc:
            errors.append(FieldError(f.name, str(exc)))
    for column, target in plan.prefixed.items():
        if not _blank(row.get(column)):
            prefix, _, key = target.partition(".")
            record.setdefault(prefix, {})[key] = _plain(row[column])
    if spec.extras_into:
        extras = {name: _plain(row[column]) for column, name in plan.extras.items() if not _blank(row.get(column))}
        if extras:
            record.setdefault(spec.extras_into, {}).update(extras)
    if not errors:
        errors = spec.check(record)
    return errors or record


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _plain(value: Any) -> Any:
    """A JSON-friendly cell: text stripped, numbers and booleans as they are, anything else as text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN
    return str(value)
