"""File imports: orders, spend, contacts, events and conversations (CSV, Parquet, JSONL, WhatsApp), idempotent.

``pulso import KIND FILE --tenant SLUG`` (see :mod:`pulso.collect.imports.command` and docs/imports.md).
"""

from pulso.collect.imports.fields import ImportUsageError
from pulso.collect.imports.service import KINDS, ImportRequest, ImportSummary, run_import

__all__ = ["KINDS", "ImportRequest", "ImportSummary", "ImportUsageError", "run_import"]
