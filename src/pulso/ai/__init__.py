"""Conversation analysis: analyzer interface, offline and LLM analyzers, redaction (issue 7)."""
