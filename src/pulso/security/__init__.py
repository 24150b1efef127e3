"""Passwords, sessions, keys, roles, masking and audit."""
