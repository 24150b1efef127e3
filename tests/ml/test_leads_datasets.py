"""The generic path on two real leads files (../shared/datasets): validation AUC floors measured on them.

Measured with seed 0 (random split, since neither file has a lead date; see docs/models.md): UCI bank marketing
without ``duration`` 0.801 (LightGBM chosen); X-Education without the sales-notes and post-outcome columns 0.874.
The floors sit about 0.02 below, to absorb library version changes, not to hide a regression.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pulso.ml.leads.train import train_leads

pytestmark = [pytest.mark.datasets, pytest.mark.slow]

# Known only after the outcome in X-Education: the sales team's notes and ratings of each lead (Tags, Lead Quality,
# Lead Profile), the activity scores assigned from them (Asymmetrique*), and the last activity as of the data's
# extraction, which includes the conversion contacts themselves (e.g. "SMS Sent", "Had a Phone Conversation").
X_EDUCATION_AFTER_OUTCOME = [
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
    "Last Activity",
    "Last Notable Activity",
]


def test_bank_marketing_without_call_duration(shared_datasets: Path) -> None:
    frame = pd.read_csv(shared_datasets / "uci-bank-marketing" / "bank-full.csv", sep=";", dtype=str)
    result = train_leads(frame, "y", exclude=["duration"])
    metrics = result.metrics
    assert metrics["rows"] + metrics["train_rows"] == 45211
    assert metrics["base_rate"] == pytest.approx(0.117, abs=0.003)
    assert metrics["roc_auc"] > 0.78
    assert metrics["top_decile_lift"] > 3.5
    assert result.warnings == []


def test_x_education_without_post_outcome_columns(shared_datasets: Path) -> None:
    frame = pd.read_csv(shared_datasets / "x-education-leads" / "Leads.csv", dtype=str)
    result = train_leads(frame, "Converted", exclude=X_EDUCATION_AFTER_OUTCOME)
    assert result.metrics["roc_auc"] > 0.85
    assert "Prospect ID" in result.model.builder.dropped_  # an identifier, not a feature


def test_x_education_warns_about_the_sales_notes(shared_datasets: Path) -> None:
    frame = pd.read_csv(shared_datasets / "x-education-leads" / "Leads.csv", dtype=str)
    result = train_leads(frame, "Converted")
    assert any(w.startswith("'Tags' alone gives validation AUC 0.9") for w in result.warnings)
