"""``pulso import``, run as a user would: summary, exit codes 0 / 1 / 2, rejects file, job run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.store import platform_session
from pulso.store.models import JobRun
from tests.collect.imports.helpers import write

runner = CliRunner()
GOOD = 'order_id,email,amount,ordered_at\nA1,ana@example.com,"10,50",2026-01-31\nA2,,x,2026-01-31\n'
BAD = "order_id,email,amount,ordered_at\nA1,ana@example.com,-3,2026-01-31\nA2,,x,2026-01-31\n"


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_import_prints_a_summary_and_writes_rejects(tenant_id: int, tmp_path: Path) -> None:
    path, rejects = write(tmp_path, "orders.csv", GOOD), tmp_path / "rejects.csv"
    code, out = pulso("import", "orders", str(path), "--tenant", "loja", "--rejects", str(rejects))
    assert code == 0, out
    assert "rows read" in out
    assert "rejected line 3: amount: 'x' is not a number" in out
    assert f"1 rows rejected (all 1 in {rejects})" in out.replace("\n", "")
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("3,amount,")
    code, out = pulso("import", "orders", str(path), "--tenant", "loja", "--quiet")
    assert code == 0
    with platform_session() as session:
        runs = session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job, r.status, r.params["summary"]["inserted"], r.params["summary"]["unchanged"]) for r in runs] == [
        ("import.orders", "succeeded", 1, 0),
        ("import.orders", "succeeded", 0, 1),
    ]


def test_every_row_rejected_exits_1(tenant_id: int, tmp_path: Path) -> None:
    code, out = pulso("import", "orders", str(write(tmp_path, "o.csv", BAD)), "--tenant", "loja", "--quiet")
    assert code == 1
    assert "2 rows rejected" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invoices", "{file}", "--tenant", "loja"], "No such command 'invoices'"),
        (["orders", "{dir}/missing.csv", "--tenant", "loja"], "does not exist"),
        (["orders", "{file}", "--tenant", "nobody"], "no active tenant with slug 'nobody'"),
        (["orders", "{file}", "--tenant", "loja", "--map", "amount=price"], "orders have no field 'price'"),
        (["orders", "{file}", "--tenant", "loja", "--map", "amount"], "must look like COLUMN=FIELD"),
        (["orders", "{file}", "--tenant", "loja", "--format", "xlsx"], "--format: 'xlsx' is not one of csv, parquet"),
        (["orders", "{file}", "--tenant", "loja", "--rejects", "{file}"], "--rejects: must not be the file"),
    ],
)
def test_usage_errors_exit_2(tenant_id: int, tmp_path: Path, args: list[str], message: str) -> None:
    path = write(tmp_path, "o.csv", GOOD)
    code, out = pulso("import", *(a.format(file=path, dir=tmp_path) for a in args))
    assert code == 2
    assert message in out.replace("\n", " ")
    with platform_session() as session:
        assert session.scalars(select(JobRun)).all() == []


def test_a_failure_mid_import_keeps_committed_chunks_and_records_it(
    tenant_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulso.collect.imports import orders

    real_write, calls = orders.write, []

    def failing_second_chunk(*args: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(orders, "write", failing_second_chunk)
    content = "order_id,amount,ordered_at\n" + "".join(f"A{i},1,2026-01-01\n" for i in range(5))
    path = write(tmp_path, "o.csv", content)
    code, out = pulso("import", "orders", str(path), "--tenant", "loja", "--chunk-rows", "2", "--quiet")
    assert code == 1
    assert "import failed: RuntimeError: disk full" in out
    with platform_session() as session:
        run = session.scalars(select(JobRun)).one()
    assert (run.status, run.rows, run.params["summary"]["rows_read"]) == ("failed", 2, 4)
    assert run.error is not None and run.error.startswith("RuntimeError: disk full")
