"""The tracker's JavaScript side, run from pytest: node's unit tests of the pure parts, and the committed
build in the Python package matching a fresh `npm run build` (skipped without node, failing in CI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import TRACKER_DIR


def test_node_unit_tests_pass(node: str) -> None:
    done = subprocess.run(
        [node, "--test", "test/"], cwd=TRACKER_DIR, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def test_committed_build_matches_a_fresh_build(node: str, tracker_node_modules: Path) -> None:
    done = subprocess.run(
        [node, "build.mjs", "--check"], cwd=TRACKER_DIR, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
