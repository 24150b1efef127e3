"""File imports: orders, campaign spend, contacts and events from CSV or Parquet, streamed and idempotent.

``pulso import KIND FILE --tenant SLUG`` (see :mod:`pulso.collect.imports.command` and docs/imports.md).
"""

from pulso.collect.imports.fields import ImportUsageError
from pulso.collect.imports.service import KINDS, ImportRequest, ImportSummary, run_import

__all__ = ["KINDS", "ImportRequest", "ImportSummary", "ImportUsageError", "run_import"]
