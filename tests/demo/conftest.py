"""One small demo seeded per test session into a copy of the migrated SQLite template, and the effects measured on it.

Seeding small takes a few seconds, so tests that only read the demo share one seeded database, tests that change it
work on a copy (helpers.demo_copy), and only tests about seeding itself (determinism, PostgreSQL) seed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pulso.demo import seed_demo
from pulso.demo.verify import EffectReport, measure_effects
from pulso.store.engine import dispose_engines
from tests.demo.helpers import END_DATE, SEED, SeededDemo, sqlite_copy


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path) -> Iterator[SeededDemo]:
    settings = sqlite_copy(migrated_sqlite_template, tmp_path_factory.mktemp("demo") / "data")
    summary = seed_demo("small", SEED, end_date=END_DATE, settings=settings, progress=False)
    yield SeededDemo(settings, summary)
    dispose_engines()


@pytest.fixture(scope="session")
def effects(seeded: SeededDemo) -> EffectReport:
    return measure_effects(seeded.settings)
