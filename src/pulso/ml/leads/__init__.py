"""Lead scoring: the probability that a lead converts, its grade, tier and reasons (docs/models.md)."""
