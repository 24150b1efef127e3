"""Pulso: open-source customer intelligence."""

__version__ = "0.1.0"
