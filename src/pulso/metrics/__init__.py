"""Metric query objects: typed parameters in, typed results (with range and definitions) out; no web code."""
