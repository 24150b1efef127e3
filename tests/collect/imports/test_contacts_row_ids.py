"""Contacts files without an identity column: refused up front with a clear message, or imported by --row-ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pulso.collect.imports import ImportUsageError
from pulso.store.models import Contact, ContactIdentity
from tests.collect.imports.helpers import counts, fetch, run, write

# semicolons and quoted cells, as in the UCI bank marketing file; no e-mail, phone or id column
BANK = '"age";"job";"Lead Source";"y"\n58;"management";"Reference";"no"\n44;"technician";"Google";"yes"\n'


def test_a_file_without_identities_is_refused_before_any_row(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "bank.csv", BANK)
    with pytest.raises(ImportUsageError) as caught:
        run("contacts", path)
    assert str(caught.value) == (
        "contacts: bank.csv has no email, phone or user_id column (columns: 'age', 'job', 'Lead Source', 'y'); "
        "name the column that identifies a person with --map COLUMN=user_id, or pass --row-ids to identify each "
        "row by the file name and line (re-importing the same file then updates instead of duplicating)"
    )
    assert fetch(tenant_id, select(Contact.id)) == []


def test_row_ids_name_each_row_by_file_and_line(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "bank.csv", BANK)
    assert counts(run("contacts", path, options=(("row_ids", "1"),))) == (2, 2, 0, 0, 0)
    assert counts(run("contacts", path, options=(("row_ids", "1"),))) == (2, 0, 0, 2, 0)  # again: nothing new
    identities = fetch(tenant_id, select(ContactIdentity.kind, ContactIdentity.value).order_by(ContactIdentity.id))
    assert [tuple(r) for r in identities] == [("user_id", "bank.csv:2"), ("user_id", "bank.csv:3")]
    attributes = [r[0] for r in fetch(tenant_id, select(Contact.attributes).order_by(Contact.id))]
    # the delimiter was sniffed; header names with spaces are stored normalised
    assert attributes == [
        {"age": "58", "job": "management", "lead_source": "Reference", "y": "no"},
        {"age": "44", "job": "technician", "lead_source": "Google", "y": "yes"},
    ]


def test_an_id_column_can_be_mapped(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Prospect ID,Converted\nab-1,1\nab-2,0\n")
    assert counts(run("contacts", path, map_options=("Prospect ID=user_id",))) == (2, 2, 0, 0, 0)
    attributes = [r[0] for r in fetch(tenant_id, select(Contact.attributes).order_by(Contact.id))]
    assert attributes == [{"converted": "1"}, {"converted": "0"}]


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("orders", {}, "--row-ids: only for contacts"),
        ("contacts", {"map_options": ("job=user_id",)}, "--row-ids: the file already maps a column to user_id"),
    ],
)
def test_row_ids_misuse(tenant_id: int, tmp_path: Path, kind: str, options: dict[str, object], message: str) -> None:
    path = write(tmp_path, "bank.csv", BANK)
    with pytest.raises(ImportUsageError, match=message):
        run(kind, path, options=(("row_ids", "1"),), **options)
