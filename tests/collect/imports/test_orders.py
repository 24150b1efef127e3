"""Orders: pt-BR file with a BOM and semicolons, rejects with line numbers, idempotent re-import, --map."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pulso.collect.imports import ImportUsageError
from pulso.store import platform_session
from pulso.store.models import Contact, ContactIdentity, JobRun, Order
from tests.collect.imports.helpers import counts, fetch, run, write

# header = line 1; lines 4-7 are bad, each for a different reason
ORDERS = (
    "\ufeffpedido;email;telefone;valor;status;data;produto\n"
    "A-1;Ana@Example.com;(11) 91234-5678;1.234,56;completed;31/01/2026 14:30;Clareamento\n"
    "A-2;bruno@example.com;;99,90;pending;2026-02-01;Limpeza\n"
    "A-3;ana@example.com;;10;shipped;2026-02-02;X\n"
    "A-4;;;-5;completed;2026-02-02;X\n"
    "A-5;not-an-email;;10,00;completed;01/31/2026;X\n"
    ";carla@example.com;;10;completed;2026-02-03;X\n"
    "A-6;;;12.50;completed;2026-02-03T10:00:00Z;Avulso\n"
)


def _orders(tenant_id: int) -> list[tuple[object, ...]]:
    query = select(Order.external_id, Order.amount, Order.status, Order.ordered_at, Order.contact_id, Order.product)
    return [tuple(r) for r in fetch(tenant_id, query.order_by(Order.external_id))]


def test_orders_import_typed_values_rejects_and_contacts(tenant_id: int, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    summary = run("orders", write(tmp_path, "pedidos.csv", ORDERS), rejects_path=rejects)
    assert counts(summary) == (7, 3, 0, 0, 4)

    orders = _orders(tenant_id)
    ana = fetch(tenant_id, select(ContactIdentity.contact_id).where(ContactIdentity.value == "ana@example.com"))[0][0]
    bruno = fetch(tenant_id, select(ContactIdentity.contact_id).where(ContactIdentity.value == "bruno@example.com"))
    assert orders == [
        # 14:30 in São Paulo (UTC-3) is 17:30 UTC; a bare date is local midnight, 03:00 UTC
        ("A-1", Decimal("1234.56"), "completed", datetime(2026, 1, 31, 17, 30, tzinfo=UTC), ana, "Clareamento"),
        ("A-2", Decimal("99.90"), "pending", datetime(2026, 2, 1, 3, 0, tzinfo=UTC), bruno[0][0], "Limpeza"),
        ("A-6", Decimal("12.50"), "completed", datetime(2026, 2, 3, 10, 0, tzinfo=UTC), None, "Avulso"),
    ]
    identities = fetch(tenant_id, select(ContactIdentity.kind, ContactIdentity.value).order_by(ContactIdentity.value))
    assert [tuple(i) for i in identities] == [
        ("phone", "+5511912345678"),
        ("email", "ana@example.com"),
        ("email", "bruno@example.com"),
    ]
    contacts = fetch(tenant_id, select(Contact.email, Contact.phone, Contact.lifecycle_stage).order_by(Contact.id))
    assert [tuple(c) for c in contacts] == [
        ("ana@example.com", "+5511912345678", "customer"),
        ("bruno@example.com", None, "lead"),  # created by a pending order
    ]

    with rejects.open(encoding="utf-8", newline="") as file:
        lines = list(csv.reader(file))
    assert lines[0] == ["line", "field", "reason", "pedido", "email", "telefone", "valor", "status", "data", "produto"]
    assert [(line[0], line[1]) for line in lines[1:]] == [
        ("4", "status"),
        ("5", "amount"),
        ("6", "email | ordered_at"),
        ("7", "order_id"),
    ]
    assert lines[1][2] == "status: 'shipped' is not one of pending, scheduled, completed, no_show, cancelled, refunded"
    assert lines[2][2] == "amount: '-5' is negative"
    assert "not-an-email' is not an e-mail address" in lines[3][2]
    assert "'01/31/2026' looks month-first" in lines[3][2]
    assert lines[4][2] == "order_id: missing required field"
    assert lines[3][3:] == ["A-5", "not-an-email", "", "10,00", "completed", "01/31/2026", "X"]

    with platform_session() as session:
        job = session.scalars(select(JobRun).where(JobRun.job == "import.orders")).one()
        assert (job.status, job.rows, job.tenant_id) == ("succeeded", 3, tenant_id)
        assert job.params["summary"]["rejected"] == 4


def test_reimport_is_idempotent_and_changed_values_replace(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "pedidos.csv", ORDERS)
    run("orders", path)
    before = _orders(tenant_id)
    assert counts(run("orders", path)) == (7, 0, 0, 3, 4)
    assert _orders(tenant_id) == before

    changed = ORDERS.replace("1.234,56", "1.300,00") + "A-7;ana@example.com;;50;completed;2026-02-04;Retorno\n"
    assert counts(run("orders", write(tmp_path, "v2.csv", changed))) == (8, 1, 1, 2, 4)
    after = {row[0]: row for row in _orders(tenant_id)}
    assert after["A-1"][1] == Decimal("1300.00")
    assert after["A-7"][4] == after["A-1"][4]  # Ana again: found by e-mail, not duplicated
    assert fetch(tenant_id, select(func.count()).select_from(Contact))[0][0] == 2
    assert fetch(tenant_id, select(func.count()).select_from(Order))[0][0] == 4


def test_map_names_the_columns(tenant_id: int, tmp_path: Path) -> None:
    content = 'codigo,cliente,total_pago,quando\nX1,zoe@example.com,"1,234.50",2026-03-01 09:00\n'
    options = ("codigo=order_id", "cliente=email", "total_pago=amount", "quando=ordered_at")
    summary = run("orders", write(tmp_path, "x.csv", content), map_options=options)
    assert counts(summary) == (1, 1, 0, 0, 0)
    assert _orders(tenant_id)[0][:4] == ("X1", Decimal("1234.50"), "completed", datetime(2026, 3, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"map_options": ("valor=price",)}, "orders have no field 'price'"),
        ({"map_options": ("preco=amount",)}, "the file has no column 'preco'"),
        ({"tenant": "nobody"}, "no active tenant with slug 'nobody'"),
        ({"delimiter": "::"}, "--delimiter"),
    ],
)
def test_usage_errors_write_nothing(tenant_id: int, tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ImportUsageError, match=message):
        run("orders", write(tmp_path, "p.csv", ORDERS), **options)  # type: ignore[arg-type]
    assert _orders(tenant_id) == []


def test_missing_required_column_is_a_usage_error(tenant_id: int, tmp_path: Path) -> None:
    with pytest.raises(ImportUsageError, match="missing required column amount"):
        run("orders", write(tmp_path, "p.csv", "order_id,ordered_at\nA,2026-01-01\n"))


def test_import_writes_only_the_named_tenant(tenant_id: int, tmp_path: Path) -> None:
    run("orders", write(tmp_path, "p.csv", ORDERS), tenant="outra")
    assert _orders(tenant_id) == []
    with platform_session() as session:
        owners = session.execute(select(Order.tenant_id, func.count()).group_by(Order.tenant_id)).all()
    assert [tuple(o) for o in owners] == [(tenant_id + 1, 3)]
