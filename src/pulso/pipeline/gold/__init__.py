"""Gold jobs: aggregates and features rebuilt from silver."""
