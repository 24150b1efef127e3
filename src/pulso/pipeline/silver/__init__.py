"""Silver jobs: bronze payloads refined into typed, deduplicated, identity-resolved entities."""
