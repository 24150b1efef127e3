"""Tenants and their users: the platform-level records, managed through the platform session."""
