"""Churn risk: a calibrated classifier (no purchase in the next N days) on the churn frame, P(alive) from BG/NBD,
reasons in a manager's words, and the ranked at-risk list (docs/models.md, "Churn risk")."""

DEFAULT_HORIZON_DAYS = 90  # here, not in the service, so that the CLI can show it without loading the models
