"""Tenant data is reached only through pulso.store: no other package opens engines, sessions or connections."""

from __future__ import annotations

import re
from pathlib import Path

import pulso

SOURCE = Path(pulso.__file__).parent
FORBIDDEN = re.compile(r"\b(create_engine|sessionmaker|Session\(|\.connect\(\)|\.raw_connection\(|engine\.begin\()")


def test_no_database_access_outside_store() -> None:
    offenders = []
    for path in SOURCE.rglob("*.py"):
        if path.is_relative_to(SOURCE / "store"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if FORBIDDEN.search(line) and "noqa: store-entry" not in line:
                offenders.append(f"{path.relative_to(SOURCE)}:{number}: {line.strip()}")
    assert offenders == [], "use pulso.store.tenant_session / platform_session instead:\n" + "\n".join(offenders)


def test_the_check_catches_a_bypass(tmp_path: Path) -> None:
    assert FORBIDDEN.search("engine = create_engine(url)")
    assert FORBIDDEN.search("with engine.connect() as conn:")
    assert not FORBIDDEN.search("with tenant_session(tenant_id) as session:")
